import type { ChildProcess } from 'node:child_process';
import { childOutput } from './child-output.js';
import { stopProcess } from './stop-process.js';
import { trackedSpawn } from './tracked-spawn.js';

/** A child process that printed `listening <port>` and can be stopped by PID. */
export interface ListenerProcess {
  readonly port: number;
  readonly process: ChildProcess;
  /** Stops it (SIGTERM by default) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `node <script> ...args` and waits (at most 10 s) for it to print `listening <port>`. */
export async function startListener(script: string, args: string[]): Promise<ListenerProcess> {
  const child = trackedSpawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [, port] = await childOutput(child, child.stdout!, /listening (\d+)/, script);
  return { port: Number(port), process: child, stop: (signal) => stopProcess(child, signal) };
}
