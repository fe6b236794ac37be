// What trellis relies on in its two resilience dependencies beyond (or at the edge of) their
// documented APIs. The circuit breaker counts into opossum's rolling window itself (the live
// newest bucket of Status#window, refreshed on the rotateBucketController's 'rotate' after
// opossum's own listener), so package.json pins opossum to the tested minor (~9.0.0); these
// tests fail when an upgrade changes that shape. The retry loop uses p-retry's documented hooks
// only; the tests pin down the order and the rejections it builds on.
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import pRetry, { AbortError } from 'p-retry';
import { describe, expect, it } from 'vitest';

/** The part of opossum's Status the breaker layer uses (as `circuit-breaker.ts` types it). */
interface WindowStatus {
  readonly stats: CircuitBreaker.Stats;
  readonly window: Array<{ fires: number; successes: number; failures: number; rejects: number }>;
}

function breaker(): { breaker: CircuitBreaker; status: WindowStatus; controller: EventEmitter } {
  const controller = new EventEmitter();
  const breaker = new CircuitBreaker(async () => 'ok', {
    timeout: false,
    rollingCountTimeout: 3_000,
    rollingCountBuckets: 3,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    rotateBucketController: controller,
  });
  return { breaker, status: breaker.status as unknown as WindowStatus, controller };
}

describe('opossum internals the breaker layer uses (opossum ~9.0.0)', () => {
  it("Status#window's first bucket is live: counts written into it are what stats sums", () => {
    const { breaker: b, status } = breaker();
    const newest = status.window[0]!;
    expect([newest.fires, newest.successes, newest.failures, newest.rejects]).toEqual([0, 0, 0, 0]);
    newest.fires += 2;
    newest.successes += 2;
    newest.failures++;
    newest.rejects++;
    newest.successes--;
    const stats = status.stats;
    expect([stats.fires, stats.successes, stats.failures, stats.rejects]).toEqual([2, 1, 1, 1]);
    expect(b.stats.fires).toBe(2);
    b.shutdown();
  });

  it("puts a new bucket first on each 'rotate', before a listener added after the breaker runs, and old counts leave", () => {
    const { breaker: b, status, controller } = breaker();
    let live = status.window[0]!;
    controller.on('rotate', () => {
      live = status.window[0]!;
    });
    const first = live;
    first.failures++;
    controller.emit('rotate');
    expect(live).not.toBe(first);
    expect(live.failures).toBe(0);
    expect(status.window).toHaveLength(3);
    expect(status.window[1]).toBe(first);
    live.failures++;
    expect(status.stats.failures).toBe(2);
    controller.emit('rotate');
    controller.emit('rotate');
    expect(status.stats.failures).toBe(1);
    controller.emit('rotate');
    expect(status.stats.failures).toBe(0);
    b.shutdown();
    expect(controller.listenerCount('rotate')).toBe(1); // opossum's own is gone; ours is the test's
  });

  it('open(), close() and the half-open state after resetTimeout drive the state machine without fire()', async () => {
    const b = new CircuitBreaker(async () => 'ok', {
      timeout: false,
      resetTimeout: 20,
      enableSnapshots: false,
    });
    expect(b.closed).toBe(true);
    b.open();
    expect(b.opened).toBe(true);
    await new Promise((resolve) => b.once('halfOpen', resolve));
    expect(b.halfOpen).toBe(true);
    b.close();
    expect(b.closed).toBe(true);
    b.shutdown();
  });
});

describe('p-retry behaviour the retry loop relies on (documented API)', () => {
  it('awaits onFailedAttempt before the next attempt, with retriesLeft counting down to 0 on the last failure', async () => {
    const log: string[] = [];
    const failure = new Error('again');
    await expect(
      pRetry(
        async (attempt) => {
          log.push(`attempt ${attempt}`);
          throw failure;
        },
        {
          retries: 2,
          minTimeout: 0,
          onFailedAttempt: async ({ error, retriesLeft }) => {
            expect(error).toBe(failure);
            await new Promise((resolve) => setImmediate(resolve));
            log.push(`waited, ${retriesLeft} left`);
          },
        },
      ),
    ).rejects.toBe(failure);
    expect(log).toEqual([
      'attempt 1',
      'waited, 2 left',
      'attempt 2',
      'waited, 1 left',
      'attempt 3',
      'waited, 0 left',
    ]);
  });

  it('rejects with what onFailedAttempt throws, and with the original error wrapped in an AbortError, untouched', async () => {
    const stop = new Error('stop');
    let attempts = 0;
    await expect(
      pRetry(
        async () => {
          attempts++;
          throw new Error('failed');
        },
        {
          retries: 5,
          minTimeout: 0,
          onFailedAttempt: () => {
            throw stop;
          },
        },
      ),
    ).rejects.toBe(stop);
    expect(attempts).toBe(1);

    const original = new Error('not retried');
    let called = false;
    await expect(
      pRetry(
        async () => {
          throw new AbortError(original);
        },
        {
          retries: 5,
          onFailedAttempt: () => {
            called = true;
          },
        },
      ),
    ).rejects.toBe(original);
    expect(called).toBe(false);
  });
});
