import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher, request } from 'undici';
import type { TestLeaf, TestPki } from './certs.js';
import { removeOnExit } from './cleanup.js';
import { freePort } from './ports.js';
import { stopProcess } from './stop-process.js';
import { trackedSpawn } from './tracked-spawn.js';

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

/** Clients over TLS, with client certificates from `pki` required (mutual TLS). */
export interface EtcdTls {
  /** The test CA: it issued etcd's certificate, and client certificates must chain to it. */
  pki: TestPki;
  /** etcd's own certificate (with `IP:127.0.0.1`). */
  server: TestLeaf;
  /** A client certificate, for the health check. */
  client: TestLeaf;
}

/** Waits (at most 15 s) until etcd at `url` says it is healthy; fails at once if it exits. */
async function untilHealthy(url: string, probe: Dispatcher, proc: ChildProcess, stderr: () => string) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}: ${stderr()}`);
    try {
      const res = await request(`${url}/health`, { dispatcher: probe });
      const body = await res.body.text();
      if (res.statusCode === 200 && (JSON.parse(body) as { health: string }).health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.kill(proc.pid!, 'SIGKILL');
  throw new Error(`etcd did not become healthy within 15 s: ${stderr()}`);
}

/** Starts etcd (over mutual TLS with `tls`) and waits until it answers `/health`. */
export async function startEtcd(tls?: EtcdTls): Promise<EtcdServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'trellis-etcd-'));
  removeOnExit(dataDir);
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const tlsArgs = tls
    ? [
        `--cert-file=${tls.server.certPath}`,
        `--key-file=${tls.server.keyPath}`,
        `--trusted-ca-file=${tls.pki.caCertPath}`,
        '--client-cert-auth',
      ]
    : [];
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
      ...tlsArgs,
    ];
    const proc = trackedSpawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const probe = new Agent(
      tls && { connect: { ca: tls.pki.caCert, cert: tls.client.cert, key: tls.client.key } },
    );
    try {
      await untilHealthy(url, probe, proc, () => stderr);
    } finally {
      await probe.close();
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    // etcd's graceful stop can wait seconds for open client streams; a crash is just as good a test.
    await stopProcess(proc, 'SIGTERM', 1000);
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
