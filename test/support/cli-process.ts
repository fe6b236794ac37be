import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { trackedSpawn } from './tracked-spawn.js';

/** A running `trellis` command, its output collected as it comes. */
export interface CliRun {
  readonly child: ChildProcess;
  /** What it wrote on stdout so far. */
  readonly stdout: string;
  /** What it wrote on stderr so far. */
  readonly stderr: string;
  /** Both, in the order they arrived (what a user sees in a terminal). */
  readonly output: string;
  /** Resolves with the exit code once the process has exited (`null` when a signal ended it). */
  readonly exited: Promise<number | null>;
}

/**
 * `trellis ...args` as a user runs it: `node cli/main.js` of the compiled library in `libDir`
 * (test/support/compiled.ts), in its own process, killed if it is still running after `boundMs`.
 */
export function runCli(libDir: string, args: readonly string[], boundMs = 15_000): CliRun {
  const child = trackedSpawn(process.execPath, [join(libDir, 'cli', 'main.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), boundMs);
  const run = {
    child,
    stdout: '',
    stderr: '',
    output: '',
    exited: once(child, 'exit').then(([code]) => {
      clearTimeout(timer);
      return code as number | null;
    }),
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    run.stdout += chunk.toString();
    run.output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
    run.output += chunk.toString();
  });
  return run;
}
