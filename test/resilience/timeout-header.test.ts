import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/core/backoff.js';
import { formatTimeoutHeader, parseTimeoutHeader } from '../../src/resilience/timeout-header.js';

describe('the trellis-timeout-ms header', () => {
  it('reads whole milliseconds and clamps huge values', () => {
    expect(parseTimeoutHeader('1500')).toBe(1500);
    expect(parseTimeoutHeader(' 20 ')).toBe(20);
    expect(parseTimeoutHeader('0')).toBe(0);
    expect(parseTimeoutHeader('999999999999', 60_000)).toBe(60_000);
  });

  it('ignores negative, fractional, unit-suffixed, repeated and garbage values', () => {
    for (const bad of [
      '-5',
      '1.5',
      '100m',
      '1e3',
      '',
      'abc',
      '0x10',
      'Infinity',
      'NaN',
      '1 2',
      '9999999999999',
    ]) {
      expect(parseTimeoutHeader(bad)).toBeUndefined();
    }
    expect(parseTimeoutHeader(['10', '20'])).toBeUndefined();
    expect(parseTimeoutHeader(undefined)).toBeUndefined();
  });

  it('never throws and never yields a negative or non-finite value for any input', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 1e9 }), (raw, max) => {
        const value = parseTimeoutHeader(raw, max);
        if (value !== undefined) {
          expect(Number.isFinite(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(max);
        }
      }),
    );
  });

  it('round-trips any remaining time as whole milliseconds, never negative', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 8e7, noNaN: true }), (ms) => {
        expect(parseTimeoutHeader(formatTimeoutHeader(ms))).toBe(Math.max(0, Math.floor(ms)));
      }),
    );
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates, and ignores garbage', () => {
    const now = Date.parse('Mon, 23 Nov 2026 09:00:00 GMT');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 09:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 08:00:00 GMT', now)).toBe(0);
    for (const bad of ['-1', 'soon', '1.5', '']) expect(parseRetryAfter(bad, now)).toBeUndefined();
  });
});
