// A real etcd for the benchmarks: random ports on 127.0.0.1, a temporary data dir, stopped by
// PID. Needs the etcd binary (Debian: apt-get install etcd-server).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.mjs';
import { stopProcess } from './processes.mjs';

/**
 * Starts etcd and waits (at most 15 s) until it answers /health. `stop()` stops it (SIGTERM, then
 * SIGKILL after 1 s) and removes its data.
 *
 * @param {{ quotaBytes?: number }} [options] - `quotaBytes`: etcd's backend quota (default etcd's 2 GB)
 */
export async function startEtcd(options = {}) {
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
      ...(options.quotaBytes ? [`--quota-backend-bytes=${options.quotaBytes}`] : []),
    ],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    await stopProcess(child, 1000);
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && child.exitCode === null) {
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
