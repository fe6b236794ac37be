import { appendFileSync, readFileSync, rmSync } from 'node:fs';

// Processes and folders tests start or make, removed even when a test failed before its afterAll
// ran (a hook time-out, a throw in a start-up helper). Each worker sweeps at its own exit, and
// because Vitest may end a worker without an 'exit' event, every registration is also appended to
// a log that the run's global teardown (test/support/global-setup.ts) sweeps with sweepLog().

/** The environment variable naming the cleanup log (set by the global setup). */
export const CLEANUP_LOG_ENV = 'TRELLIS_CLEANUP_LOG';

const pids = new Set<number>();
const dirs = new Set<string>();
let hooked = false;

function note(line: string): void {
  const log = process.env[CLEANUP_LOG_ENV];
  if (log) appendFileSync(log, `${line}\n`);
}

function sweep(livePids: Iterable<number>, liveDirs: Iterable<string>): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => sweep(pids, dirs));
}

/** Kills `pid` (SIGKILL) when the test run ends, unless {@link forgetPid} was called first. */
export function killOnExit(pid: number | undefined): void {
  if (pid === undefined) return;
  hook();
  pids.add(pid);
  note(`+pid ${pid}`);
}

/** The process exited or was stopped on purpose: nothing to do at exit. */
export function forgetPid(pid: number | undefined): void {
  if (pid === undefined) return;
  pids.delete(pid);
  note(`-pid ${pid}`);
}

/** Removes `dir` (recursively) when the test run ends. */
export function removeOnExit(dir: string): void {
  hook();
  dirs.add(dir);
  note(`+dir ${dir}`);
}

/** Kills every process and removes every folder the log registered and never forgot. */
export function sweepLog(log: string): void {
  let lines: string[];
  try {
    lines = readFileSync(log, 'utf8').split('\n');
  } catch {
    return;
  }
  const livePids = new Set<number>();
  const liveDirs = new Set<string>();
  for (const line of lines) {
    const [op, value] = [line.slice(0, 4), line.slice(5)];
    if (op === '+pid') livePids.add(Number(value));
    else if (op === '-pid') livePids.delete(Number(value));
    else if (op === '+dir') liveDirs.add(value);
  }
  sweep(livePids, liveDirs);
}
