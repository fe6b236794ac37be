// A real etcd for the discovery benchmarks: random ports on 127.0.0.1, a temporary data dir,
// stopped by PID. Needs the etcd binary (Debian: apt-get install etcd-server).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Starts etcd and waits (at most 15 s) until it answers /health; `stop()` kills it and removes its data. */
export async function startEtcd() {
  const dataDir = await mkdtemp(join(tmpdir(), 'trellis-bench-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const p = `http://127.0.0.1:${peer}`;
  const child = spawn(
    'etcd',
    [
      '--name=bench',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${p}`,
      `--initial-advertise-peer-urls=${p}`,
      `--initial-cluster=bench=${p}`,
      '--log-level=error',
      // 100,000 registrations with their values fit easily; the default quota is 2 GB anyway.
      '--quota-backend-bytes=4294967296',
    ],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, pid: child.pid, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error('etcd did not become healthy within 15 s (is the etcd binary installed?)');
}
