import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { forgetPid, killOnExit } from './cleanup.js';

/**
 * `spawn`, with the process registered for the end-of-run sweep (test/support/cleanup.ts) until
 * it exits, so a test that fails before stopping it leaves nothing running.
 */
export function trackedSpawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  killOnExit(child.pid);
  child.once('exit', () => forgetPid(child.pid));
  return child;
}
