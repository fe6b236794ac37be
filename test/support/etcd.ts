import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetPid, killOnExit, removeOnExit } from './cleanup.js';
import { freePort } from './ports.js';

/** A real etcd (Debian's etcd-server) on 127.0.0.1 with random ports and a temporary data dir. */
export interface EtcdServer {
  /** The client URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Its data directory (removed by `destroy`, or at the end of the run). */
  readonly dataDir: string;
  /** Stops the process by PID (SIGTERM, SIGKILL after 1 s) and waits for it to exit; the data dir is kept. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data dir (after `stop`). */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  /** Unfreezes it (SIGCONT). */
  resume(): void;
  /** Stops it and removes its data dir. */
  destroy(): Promise<void>;
}

/** Starts etcd and waits until it answers `/health`. */
export async function startEtcd(): Promise<EtcdServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'trellis-etcd-'));
  removeOnExit(dataDir);
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      '--name=test',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=test=${peer}`,
      '--log-level=error',
    ];
    const proc = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    killOnExit(proc.pid);
    proc.once('exit', () => forgetPid(proc.pid));
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}: ${stderr}`);
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok && ((await res.json()) as { health: string }).health === 'true') return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    process.kill(proc.pid!, 'SIGKILL');
    throw new Error(`etcd did not become healthy within 15 s: ${stderr}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    process.kill(proc.pid!, 'SIGCONT');
    process.kill(proc.pid!, 'SIGTERM');
    // etcd's graceful stop can wait seconds for open client streams; a crash is just as good a test.
    const impatient = setTimeout(() => process.kill(proc.pid!, 'SIGKILL'), 1000);
    await exited;
    clearTimeout(impatient);
  };

  await launch();
  return {
    url,
    dataDir,
    stop,
    restart: launch,
    pause: () => process.kill(child!.pid!, 'SIGSTOP'),
    resume: () => process.kill(child!.pid!, 'SIGCONT'),
    async destroy() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
