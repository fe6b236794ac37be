import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aperture,
  type BalancerFactory,
  eligibleEndpoints,
  p2cLeastLoaded,
  p2cPeakEwma,
  random,
  ringHash,
  roundRobin,
  weighted,
  zoneAware,
} from '../../src/balancers/index.js';
import { seededRandom } from '../../src/core/time.js';
import { endpoints, request } from '../support/balancer-endpoints.js';

const factories: Record<string, (seed: number) => BalancerFactory> = {
  'p2c-peak-ewma': (seed) => p2cPeakEwma({ random: seededRandom(seed) }),
  'p2c-least-loaded': (seed) => p2cLeastLoaded({ random: seededRandom(seed) }),
  'round-robin': () => roundRobin(),
  random: (seed) => random({ random: seededRandom(seed) }),
  weighted: (seed) => weighted({ random: seededRandom(seed) }),
  'ring-hash': (seed) => ringHash({ key: 'x-key', random: seededRandom(seed), pointsPerEndpoint: 20 }),
  aperture: (seed) =>
    aperture({ instanceId: seed % 3, instanceCount: 3, minAperture: 2, random: seededRandom(seed) }),
  'zone-aware': (seed) =>
    zoneAware({
      zone: 'a',
      random: seededRandom(seed),
      balancer: p2cPeakEwma({ random: seededRandom(seed + 1) }),
    }),
};

describe('the shared panic rule', () => {
  it('is never triggered while at least half of the endpoints are active', () => {
    const set = endpoints(4);
    set[0]!.state = 'ejected';
    set[1]!.state = 'ejected';
    expect(eligibleEndpoints(set).panicked).toBe(false);
    set[2]!.state = 'ejected';
    expect(eligibleEndpoints(set)).toEqual({ eligible: set, panicked: true });
  });

  it('uses every endpoint when none is active, rather than none', () => {
    const set = endpoints(2);
    for (const ep of set) ep.state = 'ejected';
    expect(eligibleEndpoints(set, 0).eligible).toHaveLength(2);
  });

  for (const [name, factory] of Object.entries(factories)) {
    it(`keeps ${name} from returning an ejected endpoint unless it panics`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 24 }),
          fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
          fc.integer({ min: 0, max: 1_000_000 }),
          (count, ejected, seed) => {
            const set = endpoints(count, (i) => ({ zone: i % 3 === 0 ? 'a' : 'b', weight: 1 + (i % 4) }));
            set.forEach((ep, i) => {
              if (ejected[i]) ep.state = 'ejected';
            });
            const balancer = factory(seed).create('svc');
            balancer.update(set);
            const { panicked } = eligibleEndpoints(set);
            for (let i = 0; i < 40; i++) {
              const chosen = balancer.pick(request({ 'x-key': `user-${i}` }));
              expect(chosen).toBeDefined();
              if (!panicked) expect(chosen!.state).toBe('active');
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('returns nothing from any balancer when the set is empty', () => {
    for (const factory of Object.values(factories)) {
      const balancer = factory(1).create('svc');
      balancer.update([]);
      expect(balancer.pick(request({ 'x-key': 'k' }))).toBeUndefined();
    }
  });
});
