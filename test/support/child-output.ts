import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * Waits until what `child` writes on `stream` matches `pattern` (a start-up line such as
 * `listening <port>`) and returns the match. Fails if the process exits first, or kills it
 * (SIGKILL) and fails after `ms`; either error carries the output so far.
 */
export function childOutput(
  child: ChildProcess,
  stream: Readable,
  pattern: RegExp,
  what: string,
  ms = 10_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-8000);
      const match = pattern.exec(text);
      if (match) done(() => resolve(match));
    };
    const onExit = (code: number | null) =>
      done(() => reject(new Error(`${what} exited (${code}): ${text}`)));
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      done(() => reject(new Error(`${what} did not start within ${ms} ms: ${text}`)));
    }, ms);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      settle();
    };
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}
