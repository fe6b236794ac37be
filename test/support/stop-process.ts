import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * Stops `child` by PID with `signal` and waits until it has exited; a no-op when it already has
 * (or never started). A frozen process (SIGSTOP) is woken first, so it can act on the signal.
 * With `killAfterMs`, one that is still running by then is killed (SIGKILL).
 */
export async function stopProcess(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
  killAfterMs?: number,
): Promise<void> {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const exited = once(child, 'exit');
  process.kill(pid, 'SIGCONT');
  process.kill(pid, signal);
  const impatient =
    killAfterMs === undefined ? undefined : setTimeout(() => process.kill(pid, 'SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(impatient);
}
