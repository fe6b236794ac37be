import { describe, expect, it } from 'vitest';
import { type Balancer, p2cLeastLoaded, zoneAware } from '../../src/balancers/index.js';
import { seededRandom } from '../../src/core/time.js';
import { endpoints, request, tally } from '../support/balancer-endpoints.js';

function zonedSet() {
  return endpoints(6, (i) => ({ zone: i < 3 ? 'a' : 'b' }));
}

/** One request that finishes at once, as the balance layer would report it. */
function finished(balancer: Balancer) {
  const ep = balancer.pick(request());
  if (ep) balancer.observe!(ep, 1, true);
  return ep;
}

function balancerFor(options: { minLocalHealthy?: number; maxLocalInflightPerEndpoint?: number } = {}) {
  return zoneAware({
    zone: 'a',
    random: seededRandom(11),
    balancer: p2cLeastLoaded({ random: seededRandom(12) }),
    ...options,
  }).create('svc');
}

describe('zone awareness', () => {
  it('keeps all traffic in the local zone while it is healthy', () => {
    const set = zonedSet();
    const balancer = balancerFor();
    balancer.update(set);
    const counts = tally(() => finished(balancer), 1_000);
    expect([...counts.keys()].every((id) => set.slice(0, 3).some((ep) => ep.id === id))).toBe(true);
  });

  it('spills part of the traffic over when local endpoints are ejected, all of it when none is left', () => {
    const set = zonedSet();
    const balancer = balancerFor({ minLocalHealthy: 0.7 });
    set[0]!.state = 'ejected';
    balancer.update(set);
    const remote = (counts: Map<string, number>) =>
      set.slice(3).reduce((sum, ep) => sum + (counts.get(ep.id) ?? 0), 0) / 2_000;
    // 2 of 3 local endpoints active: 0.667 < 0.7, so 1 - 0.667/0.7 = 4.8 % spills over.
    expect(remote(tally(() => finished(balancer), 2_000))).toBeCloseTo(1 - 2 / 3 / 0.7, 1);
    set[1]!.state = 'ejected';
    set[2]!.state = 'ejected';
    balancer.update(set);
    expect(remote(tally(() => finished(balancer), 2_000))).toBe(1);
  });

  it('spills over while local endpoints are overloaded', () => {
    const set = zonedSet();
    const balancer = balancerFor({ maxLocalInflightPerEndpoint: 2 });
    balancer.update(set);
    const chosen = Array.from({ length: 9 }, () => balancer.pick(request())!);
    expect(chosen.slice(0, 6).every((ep) => ep.endpoint.zone === 'a')).toBe(true);
    expect(chosen.slice(6).every((ep) => ep.endpoint.zone === 'b')).toBe(true);
    balancer.observe!(chosen[0]!, 1, true);
    expect(balancer.pick(request())!.endpoint.zone).toBe('a');
  });

  it('reports every endpoint in its snapshot, with its zone', () => {
    const set = zonedSet();
    const balancer = balancerFor();
    set[4]!.state = 'ejected';
    balancer.update(set);
    expect(balancer.snapshot().map((s) => [s.id, s.zone, s.state])).toEqual(
      set.map((ep) => [ep.id, ep.endpoint.zone, ep.state]),
    );
  });
});
