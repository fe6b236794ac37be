import { describe, expect, it } from 'vitest';
import {
  aperture,
  type BalancerFactory,
  p2cPeakEwma,
  ringHash,
  roundRobin,
} from '../../src/balancers/index.js';
import type { MeshResponse } from '../../src/core/layer.js';
import { seededRandom } from '../../src/core/time.js';
import { balanceLayer, testServiceHandle } from '../../src/index.js';
import { endpoints, request } from '../support/balancer-endpoints.js';

/**
 * The balance layer over a real balancer and a stub below it (no network: this is about which
 * endpoint an attempt goes to, the one place "avoid this endpoint" is honoured).
 */
function attemptsAvoiding(factory: BalancerFactory, count: number, attempts: number): number {
  const set = endpoints(count);
  const balancer = factory.create('svc');
  balancer.update(set);
  const service = testServiceHandle({ name: 'svc', balancer, endpoints: () => set });
  const call = balanceLayer().wrap(() => Promise.resolve({ statusCode: 200 } as MeshResponse), service);
  let landedOnAvoided = 0;
  for (let i = 0; i < attempts; i++) {
    const ctx = request({ 'x-key': 'same-key' });
    ctx.avoid = set[i % count];
    void call(ctx);
    if (ctx.endpoint === ctx.avoid) landedOnAvoided++;
  }
  return landedOnAvoided;
}

describe('avoiding the endpoint a retry or backup names', () => {
  it.each<[string, BalancerFactory]>([
    ['round robin', roundRobin()],
    [
      'P2C peak-EWMA over two endpoints (it compares the same two every time)',
      p2cPeakEwma({ random: seededRandom(3) }),
    ],
    ['a ring hash (its choice for a key is fixed)', ringHash({ key: 'x-key' })],
    ['aperture', aperture({ instanceId: 0, instanceCount: 1, random: seededRandom(5) })],
  ])('never sends an attempt to the avoided endpoint while another is active: %s', (_name, factory) => {
    expect(attemptsAvoiding(factory, 2, 200)).toBe(0);
  });

  it('keeps the avoided endpoint when it is the only one', () => {
    expect(attemptsAvoiding(roundRobin(), 1, 10)).toBe(10);
  });
});
