// What trellis relies on in its two resilience dependencies beyond (or at the edge of) their
// documented APIs. The circuit breaker drives opossum's rolling window directly (Status#increment,
// which @types/opossum leaves out, and the live newest bucket of Status#window), so package.json
// pins opossum to the tested minor (~9.0.0); these tests fail when an upgrade changes that shape.
// The retry loop uses p-retry's documented hooks only; the tests pin down the order and the
// rejections it builds on.
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import pRetry, { AbortError } from 'p-retry';
import { describe, expect, it } from 'vitest';

/** The part of opossum's Status the breaker layer uses (as `circuit-breaker.ts` types it). */
interface CountingStatus {
  increment(property: 'fires' | 'successes' | 'failures' | 'rejects'): void;
  readonly stats: CircuitBreaker.Stats;
  readonly window: Array<{ successes: number }>;
}

function breaker(): { breaker: CircuitBreaker; status: CountingStatus; rotate: () => void } {
  const controller = new EventEmitter();
  const breaker = new CircuitBreaker(async () => 'ok', {
    timeout: false,
    rollingCountTimeout: 3_000,
    rollingCountBuckets: 3,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    rotateBucketController: controller,
  });
  return {
    breaker,
    status: breaker.status as unknown as CountingStatus,
    rotate: () => controller.emit('rotate'),
  };
}

describe('opossum internals the breaker layer uses (opossum ~9.0.0)', () => {
  it('Status#increment counts fires, successes, failures and rejects in the window that stats sums', () => {
    const { breaker: b, status } = breaker();
    expect(typeof status.increment).toBe('function');
    for (const property of ['fires', 'fires', 'successes', 'failures', 'rejects'] as const)
      status.increment(property);
    const stats = status.stats;
    expect([stats.fires, stats.successes, stats.failures, stats.rejects]).toEqual([2, 1, 1, 1]);
    // The layer's own counting is all the window holds: no event of opossum's counted as well.
    expect(b.stats.fires).toBe(2);
    b.shutdown();
  });

  it('Status#window lists the buckets newest first, and its first is the live bucket (a success moved to the failures)', () => {
    const { breaker: b, status } = breaker();
    status.increment('successes');
    status.increment('successes');
    const newest = status.window[0]!;
    expect(newest.successes).toBe(2);
    newest.successes--;
    expect(status.stats.successes).toBe(1);
    b.shutdown();
  });

  it("rotates one bucket on each 'rotate' of the rotateBucketController, and old counts leave the window", () => {
    const { breaker: b, status, rotate } = breaker();
    status.increment('failures');
    rotate();
    expect(status.window[0]!.successes).toBe(0);
    expect(status.window).toHaveLength(3);
    expect(status.stats.failures).toBe(1);
    rotate();
    rotate();
    expect(status.stats.failures).toBe(0);
    b.shutdown();
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
