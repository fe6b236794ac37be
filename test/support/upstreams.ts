import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startListener } from './listener-process.js';

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
  const listener = await startListener(UPSTREAM, [String(port), name]);
  return { ...listener, name, address: `127.0.0.1:${listener.port}` };
}

/** Starts several upstreams in parallel. */
export function startUpstreams(...names: string[]): Promise<Upstream[]> {
  return Promise.all(names.map((name) => startUpstream(name)));
}
