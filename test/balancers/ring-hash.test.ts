import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ringHash } from '../../src/balancers/index.js';
import { seededRandom } from '../../src/core/time.js';
import type { MeshEndpoint } from '../../src/service/mesh-endpoint.js';
import { endpoints, request, tally } from '../support/balancer-endpoints.js';

const KEYS = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);

function assignments(n: number, set = endpoints(n)) {
  const balancer = ringHash({ key: 'x-user', loadFactor: Number.POSITIVE_INFINITY }).create('svc');
  balancer.update(set);
  return new Map(KEYS.map((key) => [key, balancer.pick(request({ 'x-user': key }))!.id]));
}

describe('ring hash', () => {
  it('moves only about 1/N of the keys when an endpoint is added', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), (n) => {
        const set = endpoints(n + 1);
        const before = assignments(n, set.slice(0, n));
        const after = assignments(n + 1, set);
        const moved = KEYS.filter((key) => before.get(key) !== after.get(key));
        // Every moved key moved to the new endpoint, and about 1/(N+1) of them did.
        for (const key of moved) expect(after.get(key)).toBe(set[n]!.id);
        expect(moved.length / KEYS.length).toBeLessThan((1 / (n + 1)) * 1.6 + 0.01);
      }),
      { numRuns: 25 },
    );
  });

  it('sends the same key to the same endpoint every time', () => {
    const first = assignments(7);
    expect(assignments(7)).toEqual(first);
  });

  it('moves the keys of an ejected endpoint to the next one and brings them back after', () => {
    const set = endpoints(5);
    const balancer = ringHash({ key: 'x-user' }).create('svc');
    balancer.update(set);
    const owner = balancer.pick(request({ 'x-user': 'alice' })) as MeshEndpoint;
    balancer.observe!(owner, 1, true);
    owner.state = 'ejected';
    balancer.update(set);
    const stand_in = balancer.pick(request({ 'x-user': 'alice' }))!;
    balancer.observe!(stand_in, 1, true);
    expect(stand_in).not.toBe(owner);
    owner.state = 'active';
    balancer.update(set);
    expect(balancer.pick(request({ 'x-user': 'alice' }))).toBe(owner);
  });

  it('bounds the load of a hot key to (1 + loadFactor) x the average', () => {
    const set = endpoints(4);
    const balancer = ringHash({ key: 'x-user', loadFactor: 0.25 }).create('svc');
    balancer.update(set);
    // 40 concurrent requests for one hot key, none finished: the balance layer counts in flight.
    for (let i = 0; i < 40; i++) balancer.pick(request({ 'x-user': 'hot' }))!.inflight++;
    for (const ep of set) expect(ep.inflight).toBeLessThanOrEqual(Math.ceil((1.25 * 40) / 4));
  });

  it('spreads requests without a key at random', () => {
    const balancer = ringHash({ key: 'x-user', random: seededRandom(5) }).create('svc');
    balancer.update(endpoints(4));
    const counts = tally(() => {
      const ep = balancer.pick(request());
      balancer.observe!(ep!, 1, true);
      return ep;
    }, 4_000);
    expect(counts.size).toBe(4);
    for (const c of counts.values()) expect(c).toBeGreaterThan(800);
  });

  it('reports a missing key option as a configuration problem', () => {
    expect(ringHash({} as never).validate!()).toContain(
      'ring-hash: key must be a header name or a function (ctx) => string | undefined',
    );
  });
});
