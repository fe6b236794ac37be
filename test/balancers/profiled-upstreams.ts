import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/profiled-upstream.mjs', import.meta.url));

/** How a profiled upstream answers (see fixtures/profiled-upstream.mjs). */
export interface Profile {
  delayMs?: number;
  spikeRate?: number;
  spikeMs?: number;
  errorRate?: number;
  seed?: number;
}

/** A profiled upstream process on 127.0.0.1. */
export interface ProfiledUpstream {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  readonly process: ChildProcess;
  /** Stops the process by PID and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts a profiled upstream (optionally on a given port, e.g. to restart one) and waits until it listens. */
export async function startProfiled(
  name: string,
  profile: Profile = {},
  port = 0,
): Promise<ProfiledUpstream> {
  const child = spawn(process.execPath, [FIXTURE, String(port), name, JSON.stringify(profile)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const listening = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /listening (\d+)/.exec(buffered);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`upstream ${name} exited with ${code} before listening`)));
  }).finally(() => clearTimeout(timer));
  return {
    name,
    port: listening,
    address: `127.0.0.1:${listening}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}
