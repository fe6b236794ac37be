import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../../src/core/latency-window.js';

describe('LatencyWindow', () => {
  it('reports nothing until it has enough samples', () => {
    let now = 0;
    const window = new LatencyWindow({ minSamples: 10, refreshMs: 1, now: () => now });
    for (let i = 0; i < 9; i++) window.record(5);
    now = 2;
    expect(window.value()).toBe(-1);
    window.record(5);
    now = 4;
    expect(window.value()).toBe(5);
  });

  it('matches the exact quantile of the samples to within one millisecond bucket', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1999, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (samples, quantile) => {
          let now = 0;
          const window = new LatencyWindow({ quantile, minSamples: 1, refreshMs: 1, now: () => now });
          for (const s of samples) window.record(s);
          now = 1;
          const sorted = [...samples].sort((a, b) => a - b);
          const exact = sorted[Math.ceil(quantile * sorted.length) - 1]!;
          expect(window.value()).toBe(Math.ceil(exact));
        },
      ),
    );
  });

  it('forgets samples after two half-windows', () => {
    let now = 0;
    const window = new LatencyWindow({ minSamples: 1, refreshMs: 1, windowMs: 1000, now: () => now });
    window.record(500);
    now = 600;
    expect(window.value()).toBe(500);
    window.record(10);
    now = 1100;
    expect(window.value()).toBe(10);
    now = 2500;
    expect(window.value()).toBe(-1);
  });
});
