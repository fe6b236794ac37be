import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketBounds, histogramQuantile, LatencyHistogram } from '../../src/telemetry/latency-histogram.js';
import { NO_ROUTE, OVERFLOW_ROUTE, ServiceStats } from '../../src/telemetry/service-stats.js';

const BOUNDS = bucketBounds([0.001, 0.01, 0.1, 1, 10]) as Float64Array;

describe('LatencyHistogram', () => {
  it('puts every observation in the first bucket whose bound is at least its value, as Prometheus does', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { maxLength: 200 }), (values) => {
        const h = new LatencyHistogram(BOUNDS);
        for (const v of values) h.observe(v);
        let cumulative = 0;
        BOUNDS.forEach((bound, i) => {
          cumulative += h.counts[i]!;
          expect(cumulative).toBe(values.filter((v) => v <= bound).length);
        });
        expect(h.count).toBe(values.length);
        expect(h.counts.reduce((a, b) => a + b, 0)).toBe(values.length);
        expect(h.sum).toBeCloseTo(
          values.reduce((a, b) => a + b, 0),
          6,
        );
      }),
    );
  });

  it('estimates quantiles inside the right bucket', () => {
    const h = new LatencyHistogram(BOUNDS);
    for (let i = 0; i < 99; i++) h.observe(0.005);
    h.observe(5);
    const q = (p: number) => histogramQuantile(h.counts, BOUNDS, p);
    expect(q(0.5)).toBeGreaterThan(0.001);
    expect(q(0.5)).toBeLessThanOrEqual(0.01);
    expect(q(1)).toBeGreaterThan(1);
    expect(histogramQuantile(new Float64Array(6), BOUNDS, 0.5)).toBeNaN();
  });

  it('refuses bounds that are not positive, finite and ascending', () => {
    expect(bucketBounds([])).toMatch(/non-empty/);
    expect(bucketBounds([0])).toMatch(/> 0/);
    expect(bucketBounds([1, Number.POSITIVE_INFINITY])).toMatch(/finite/);
    expect(bucketBounds([1, 1])).toMatch(/ascending/);
  });
});

describe('ServiceStats routes', () => {
  it('keeps at most maxRoutes distinct routes and counts the rest as overflow, whatever the input', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }), { maxLength: 300 }), fc.nat(20), (routes, max) => {
        const stats = new ServiceStats('svc', BOUNDS, max);
        for (const r of routes) stats.route(r);
        const kept = stats.routes().map((r) => r.route);
        expect(kept[0]).toBe(NO_ROUTE);
        expect(new Set(kept).size).toBe(kept.length); // one series per route label
        expect(kept.length).toBeLessThanOrEqual(max + 2);
        const distinct = new Set(routes.filter((r) => r !== NO_ROUTE));
        if (distinct.size > max) expect(kept).toContain(OVERFLOW_ROUTE);
        expect(stats.route(undefined)).toBe(stats.unrouted);
      }),
    );
  });
});
