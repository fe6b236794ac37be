import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, jitteredBackoff } from '../../src/core/backoff.js';

const ms = fc.integer({ min: 0, max: 100_000 });
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const jitter = fc.double({ min: 0, max: 1, noNaN: true });

/** The doubling cap of failure number `failure` (1 = first), as the backoff documents it. */
function cap(failure: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** (failure - 1));
}

describe('jitteredBackoff', () => {
  it('waits between (1 - jitter) of the doubling cap and the cap itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), ms, ms, unit, jitter, (retry, baseMs, maxMs, r, j) => {
        const wait = jitteredBackoff(retry, baseMs, maxMs, r, j);
        const top = cap(retry, baseMs, maxMs);
        expect(wait).toBeGreaterThanOrEqual((1 - j) * top - 1e-9);
        expect(wait).toBeLessThanOrEqual(top);
      }),
    );
  });

  it('is full jitter by default: the random number times the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), ms, ms, unit, (retry, baseMs, maxMs, r) => {
        expect(jitteredBackoff(retry, baseMs, maxMs, r)).toBe(cap(retry, baseMs, maxMs) * r);
      }),
    );
  });

  it('stays a finite number however many retries, a zero base included (0 × 2^1024 would be NaN)', () => {
    const base = fc.oneof(fc.constant(0), ms);
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 1_000_000 }),
        base,
        ms,
        unit,
        jitter,
        (retry, baseMs, maxMs, r, j) => {
          const wait = jitteredBackoff(retry, baseMs, maxMs, r, j);
          expect(Number.isFinite(wait)).toBe(true);
          expect(wait).toBeLessThanOrEqual(maxMs);
        },
      ),
    );
  });
});

describe('Backoff', () => {
  it('doubles the cap with each failure in a row from baseMs, then holds it at maxMs', () => {
    fc.assert(
      fc.property(ms, ms, fc.integer({ min: 1, max: 80 }), (baseMs, maxMs, failures) => {
        // No jitter: each wait is its cap.
        const backoff = new Backoff({ baseMs, maxMs, jitter: 0 });
        let previous = 0;
        for (let failure = 1; failure <= failures; failure++) {
          const wait = backoff.next();
          expect(wait).toBe(cap(failure, baseMs, maxMs));
          expect(wait).toBeGreaterThanOrEqual(previous);
          previous = wait;
        }
      }),
    );
  });

  it('keeps each wait within its jitter range, whatever the random source says', () => {
    fc.assert(
      fc.property(
        ms,
        ms,
        jitter,
        fc.array(unit, { minLength: 1, maxLength: 60 }),
        (baseMs, maxMs, j, draws) => {
          let drawn = 0;
          const backoff = new Backoff({ baseMs, maxMs, jitter: j, random: () => draws[drawn++]! });
          draws.forEach((r, i) => {
            const top = cap(i + 1, baseMs, maxMs);
            const wait = backoff.next();
            expect(wait).toBeCloseTo(top * (1 - j + j * r), 6);
            expect(wait).toBeGreaterThanOrEqual((1 - j) * top - 1e-9);
            expect(wait).toBeLessThanOrEqual(top);
          });
        },
      ),
    );
  });

  it('starts again from baseMs after reset, however many failures came before', () => {
    fc.assert(
      fc.property(ms, ms, fc.integer({ min: 0, max: 3000 }), (baseMs, maxMs, failures) => {
        const backoff = new Backoff({ baseMs, maxMs, jitter: 0 });
        for (let i = 0; i < failures; i++) backoff.next();
        backoff.reset();
        expect(backoff.next()).toBe(Math.min(baseMs, maxMs));
        expect(backoff.next()).toBe(cap(2, baseMs, maxMs));
      }),
      { numRuns: 50 },
    );
  });

  it('defaults to full jitter with Math.random: waits spread from near 0 to the cap', () => {
    const backoff = new Backoff({ baseMs: 1000, maxMs: 1000 });
    const waits = Array.from({ length: 2000 }, () => backoff.next());
    expect(Math.min(...waits)).toBeLessThan(100);
    expect(Math.max(...waits)).toBeGreaterThan(900);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1000);
  });
});
