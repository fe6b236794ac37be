import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apertureWidth } from '../../src/balancers/aperture.js';
import { aperture, weighted } from '../../src/balancers/index.js';
import { seededRandom } from '../../src/core/time.js';
import { endpoints, request, tally } from '../support/balancer-endpoints.js';

const PICKS = 20_000;

/** Within 5 percentage points of the target share, for each endpoint. */
function expectShares(counts: Map<string, number>, targets: Map<string, number>): void {
  for (const [id, target] of targets) {
    expect(Math.abs((counts.get(id) ?? 0) / PICKS - target)).toBeLessThan(0.05);
  }
}

describe('weighted', () => {
  it('sends traffic in proportion to discovery weights', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 12 }),
        fc.integer(),
        (weights, seed) => {
          fc.pre(weights.some((w) => w > 0));
          const set = endpoints(weights.length, (i) => ({ weight: weights[i] }));
          const balancer = weighted({ random: seededRandom(seed) }).create('svc');
          balancer.update(set);
          const total = weights.reduce((a, b) => a + b, 0);
          const counts = tally(() => balancer.pick(request()), PICKS);
          expectShares(counts, new Map(set.map((ep, i) => [ep.id, weights[i]! / total])));
          set.forEach((ep, i) => {
            if (weights[i] === 0) expect(counts.get(ep.id)).toBeUndefined();
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('scales an endpoint in slow start down by its factor', () => {
    const set = endpoints(2);
    set[0]!.slowStartFactor = 0.25;
    const balancer = weighted({ random: seededRandom(1) }).create('svc');
    balancer.update(set);
    expectShares(
      tally(() => balancer.pick(request()), PICKS),
      new Map([[set[0]!.id, 0.2]]),
    );
  });
});

/** The share of endpoint `i` of `n` that client `id` of `count` should get: the window overlap. */
function apertureTarget(id: number, count: number, n: number, minAperture: number, i: number): number {
  const width = apertureWidth(1 / count, minAperture, n);
  const start = id / count;
  let overlap = 0;
  // The window may wrap around the ring: check the endpoint's arc and its copy one turn later.
  for (const shift of [0, 1]) {
    const lo = Math.max(start, i / n + shift);
    const hi = Math.min(start + width, (i + 1) / n + shift);
    overlap += Math.max(0, hi - lo);
  }
  return overlap / width;
}

describe('deterministic aperture', () => {
  it('spreads each client over its window in proportion to the overlap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.nat(),
        (count, n, minAperture, seed) => {
          const id = seed % count;
          const set = endpoints(n);
          const balancer = aperture({
            instanceId: id,
            instanceCount: count,
            minAperture,
            random: seededRandom(seed),
          }).create('svc');
          balancer.update(set);
          // Equal cost everywhere, so each pick is the first draw: its distribution is the target.
          const sorted = [...set].sort((a, b) => (a.id < b.id ? -1 : 1));
          const counts = tally(() => balancer.pick(request()), PICKS);
          expectShares(
            counts,
            new Map(sorted.map((ep, i) => [ep.id, apertureTarget(id, count, n, minAperture, i)])),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('talks to few endpoints of a large fleet, while all clients together load it evenly', () => {
    const count = 10;
    const set = endpoints(100);
    const total = new Map<string, number>();
    for (let id = 0; id < count; id++) {
      const balancer = aperture({ instanceId: id, instanceCount: count, random: seededRandom(id) }).create(
        'svc',
      );
      balancer.update(set);
      const counts = tally(() => balancer.pick(request()), PICKS);
      expect(counts.size).toBeLessThanOrEqual(21);
      for (const [ep, c] of counts) total.set(ep, (total.get(ep) ?? 0) + c);
    }
    expect(total.size).toBe(100);
    const expected = (count * PICKS) / 100;
    for (const c of total.values()) expect(Math.abs(c - expected) / expected).toBeLessThan(0.1);
  });
});
