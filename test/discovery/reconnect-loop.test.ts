import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/core/backoff.js';
import { reconnectLoop } from '../../src/discovery/reconnect-loop.js';

describe('reconnectLoop', () => {
  it('reports each failure, waits the backoff after it, and the pause a step asks for after a success', async () => {
    const abort = new AbortController();
    const errors: string[] = [];
    const starts: number[] = [];
    // Fails twice, then succeeds asking for a 30 ms pause, then ends the loop.
    const loop = reconnectLoop(
      abort.signal,
      new Backoff({ baseMs: 20, maxMs: 1000, jitter: 0 }),
      (err) => errors.push(err.message),
      async () => {
        starts.push(performance.now());
        if (starts.length <= 2) throw new Error(`failure ${starts.length}`);
        if (starts.length === 4) abort.abort();
        return 30;
      },
    );
    await loop;
    expect(errors).toEqual(['failure 1', 'failure 2']);
    expect(starts).toHaveLength(4);
    const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
    // 20 ms, then 40 ms (doubled), then the step's own 30 ms; timers never fire early.
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(29);
  });

  it('ends at once when aborted in the middle of a long wait, reporting nothing more', async () => {
    const abort = new AbortController();
    const errors: Error[] = [];
    let steps = 0;
    const loop = reconnectLoop(
      abort.signal,
      new Backoff({ baseMs: 60_000, maxMs: 60_000, jitter: 0 }),
      (err) => errors.push(err),
      async () => {
        steps++;
        throw new Error('down');
      },
    );
    await new Promise((resolve) => setImmediate(resolve));
    const aborted = performance.now();
    abort.abort();
    await loop;
    // Bounded well below the 60 s wait it was in.
    expect(performance.now() - aborted).toBeLessThan(1000);
    expect(steps).toBe(1);
    expect(errors).toHaveLength(1);
  });
});
