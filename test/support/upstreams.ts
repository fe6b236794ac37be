import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const UPSTREAM = fileURLToPath(new URL('../fixtures/upstream.mjs', import.meta.url));

/** A real HTTP server in its own process, on 127.0.0.1. */
export interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts an upstream process (fixtures/upstream.mjs) and waits until it listens. */
export async function startUpstream(name: string, port = 0): Promise<Upstream> {
  const child = spawn(process.execPath, [UPSTREAM, String(port), name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /listening (\d+)/.exec(buffered);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`upstream ${name} exited with ${code} before listening`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const actualPort = await ready.finally(() => clearTimeout(timer));
  return {
    name,
    port: actualPort,
    address: `127.0.0.1:${actualPort}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

/** Starts several upstreams in parallel. */
export function startUpstreams(...names: string[]): Promise<Upstream[]> {
  return Promise.all(names.map((name) => startUpstream(name)));
}
