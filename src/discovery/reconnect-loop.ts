import type { Backoff } from '../core/backoff.js';
import { sleep } from '../core/time.js';

/**
 * The loop of a watch that must keep going until it is closed: runs `step` again and again; a
 * step that throws is reported and followed by the backoff's next wait, a step that returns is
 * followed by the wait it returns (0 for at once). Resetting the backoff after progress is the
 * step's call (a watch resets it on each message, a poll after each answer). Ends, with no timer
 * left, as soon as `signal` aborts, in the middle of a wait too.
 *
 * @param signal - aborted when the watch is closed
 * @param backoff - the waits after failures
 * @param onError - told of each failure (not of the abort that ends the loop)
 * @param step - one round: a query, or a stream followed to its end; resolves with the ms to wait before the next
 */
export async function reconnectLoop(
  signal: AbortSignal,
  backoff: Backoff,
  onError: (err: Error) => void,
  step: () => Promise<number>,
): Promise<void> {
  let waitMs = 0;
  while (!signal.aborted) {
    try {
      // The wait is inside the try: an abort rejects it, and the catch ends the loop.
      if (waitMs > 0) await sleep(waitMs, signal);
      waitMs = await step();
    } catch (err) {
      if (signal.aborted) return;
      onError(err as Error);
      waitMs = backoff.next();
    }
  }
}
