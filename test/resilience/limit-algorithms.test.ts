import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WindowedCounts } from '../../src/core/windowed-counts.js';
import { AimdLimit } from '../../src/resilience/concurrency/aimd-limit.js';
import { GradientLimit } from '../../src/resilience/concurrency/gradient-limit.js';
import { TokenBucket } from '../../src/resilience/rate-limit/token-bucket.js';
import { throttleProbability } from '../../src/resilience/throttle/adaptive-throttle.js';

const sample = fc.record({
  rtt: fc.double({ min: 0, max: 10_000, noNaN: true }),
  inflight: fc.integer({ min: 0, max: 2_000 }),
  dropped: fc.boolean(),
});

describe('AIMD limit', () => {
  it('stays within [minLimit, maxLimit] whatever the samples', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 300 }), (samples) => {
        const limit = new AimdLimit({ minLimit: 2, maxLimit: 50, initialLimit: 10, latencyThresholdMs: 100 });
        for (const s of samples) {
          limit.onSample(s.rtt, s.inflight, s.dropped);
          expect(limit.current).toBeGreaterThanOrEqual(2);
          expect(limit.current).toBeLessThanOrEqual(50);
        }
      }),
    );
  });

  it('multiplies by the backoff ratio on a drop and adds one on a busy success', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 500 }),
        fc.double({ min: 0.1, max: 0.95, noNaN: true }),
        (start, ratio) => {
          const limit = new AimdLimit({ initialLimit: start, backoffRatio: ratio, maxLimit: 1000 });
          limit.onSample(1, start, true);
          expect(limit.current).toBeCloseTo(Math.max(1, start * ratio), 9);
          const afterDrop = limit.current;
          limit.onSample(1, Math.ceil(afterDrop), false);
          expect(limit.current).toBeCloseTo(Math.min(1000, afterDrop + 1), 9);
        },
      ),
    );
  });

  it('treats an attempt slower than the latency threshold as a drop, and ignores idle successes', () => {
    const limit = new AimdLimit({ initialLimit: 40, latencyThresholdMs: 50 });
    limit.onSample(10, 2, false); // idle: 2 in flight of 40
    expect(limit.current).toBe(40);
    limit.onSample(80, 30, false);
    expect(limit.current).toBe(36);
  });
});

describe('gradient limit', () => {
  it('stays within [minLimit, maxLimit] whatever the samples', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 300 }), (samples) => {
        const limit = new GradientLimit({ minLimit: 3, maxLimit: 80, initialLimit: 20 });
        for (const s of samples) {
          limit.onSample(s.rtt, s.inflight, s.dropped);
          expect(limit.current).toBeGreaterThanOrEqual(3);
          expect(limit.current).toBeLessThanOrEqual(80);
          expect(Number.isFinite(limit.current)).toBe(true);
        }
      }),
    );
  });

  it('shrinks when latency rises well above its average and grows back when it falls', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 50, noNaN: true }),
        fc.double({ min: 3, max: 20, noNaN: true }),
        (baseMs, slowdown) => {
          const limit = new GradientLimit({ initialLimit: 50, maxLimit: 500, longWindow: 100 });
          for (let i = 0; i < 50; i++) limit.onSample(baseMs, limit.current, false);
          const steady = limit.current;
          for (let i = 0; i < 20; i++) limit.onSample(baseMs * slowdown, limit.current, false);
          const slowed = limit.current;
          expect(slowed).toBeLessThan(steady);
          for (let i = 0; i < 200; i++) limit.onSample(baseMs, limit.current, false);
          expect(limit.current).toBeGreaterThan(slowed);
        },
      ),
    );
  });

  it('never moves on samples taken while mostly idle', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { maxLength: 100 }), (rtts) => {
        const limit = new GradientLimit({ initialLimit: 100 });
        for (const rtt of rtts) limit.onSample(rtt, 49, false);
        expect(limit.current).toBe(100);
      }),
    );
  });
});

describe('adaptive throttle probability', () => {
  it('is within [0, 1) and zero while the upstream accepts at least one call in k', () => {
    fc.assert(
      fc.property(
        fc.nat(100_000),
        fc.nat(100_000),
        fc.double({ min: 1, max: 10, noNaN: true }),
        (r, a, k) => {
          const accepts = Math.min(a, r);
          const p = throttleProbability(r, accepts, k);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThan(1);
          if (r <= k * accepts) expect(p).toBe(0);
        },
      ),
    );
  });

  it('rises as accepts fall, for a fixed number of requests', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(10_000), fc.nat(10_000), (r, x, y) => {
        const [fewer, more] = [Math.min(x, y, r), Math.min(Math.max(x, y), r)];
        expect(throttleProbability(r, fewer, 2)).toBeGreaterThanOrEqual(throttleProbability(r, more, 2));
      }),
    );
  });
});

describe('windowed counts', () => {
  it('match a brute-force count of the events inside the window', () => {
    const event = fc.record({ gap: fc.integer({ min: 0, max: 400 }), accepted: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 200 }), (events) => {
        const windowMs = 1000;
        const bucketMs = 100;
        const counts = new WindowedCounts(windowMs, 10, 0);
        const log: Array<{ bucket: number; accepted: boolean }> = [];
        let now = 0;
        for (const e of events) {
          now += e.gap;
          counts.advance(now);
          counts.addRequest();
          if (e.accepted) counts.addAccept();
          log.push({ bucket: Math.floor(now / bucketMs), accepted: e.accepted });
          const current = Math.floor(now / bucketMs);
          const inWindow = log.filter((l) => l.bucket > current - 10);
          expect(counts.requests).toBe(inWindow.length);
          expect(counts.accepts).toBe(inWindow.filter((l) => l.accepted).length);
        }
      }),
    );
  });
});

describe('token bucket (injected clock)', () => {
  it('never grants more than burst plus rate times elapsed time', () => {
    const step = fc.record({
      advanceMs: fc.integer({ min: 0, max: 200 }),
      takes: fc.integer({ min: 0, max: 30 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(step, { maxLength: 50 }),
        (rate, burst, steps) => {
          let now = 0;
          const bucket = new TokenBucket(rate, burst, () => now);
          let granted = 0;
          for (const s of steps) {
            now += s.advanceMs;
            for (let i = 0; i < s.takes; i++) if (bucket.tryTake()) granted++;
            expect(granted).toBeLessThanOrEqual(burst + (rate * now) / 1000 + 1e-9);
          }
        },
      ),
    );
  });

  it('grants a full burst at once, then one token per 1/rate seconds', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 5, () => now);
    const burst = Array.from({ length: 8 }, () => bucket.tryTake());
    expect(burst.filter(Boolean)).toHaveLength(5);
    expect(bucket.msUntilToken()).toBeCloseTo(100, 9);
    now += 99;
    expect(bucket.tryTake()).toBe(false);
    now += 1;
    expect(bucket.tryTake()).toBe(true);
    now += 10_000;
    expect(bucket.tokens).toBe(5);
  });
});
