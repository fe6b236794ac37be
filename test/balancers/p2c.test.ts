import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p2cLeastLoaded, p2cPeakEwma } from '../../src/balancers/index.js';
import { PeakEwma } from '../../src/balancers/peak-ewma.js';
import { seededRandom } from '../../src/core/time.js';
import { endpoints, request, tally } from '../support/balancer-endpoints.js';

describe('peak EWMA', () => {
  it('jumps to a latency peak at once', () => {
    const ewma = new PeakEwma(10, 0);
    ewma.observe(200, 1, 10_000);
    expect(ewma.at(1, 10_000)).toBe(200);
  });

  it('tracks a step change in latency within its decay window', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1_000, noNaN: true }),
        fc.double({ min: 1, max: 1_000, noNaN: true }),
        fc.integer({ min: 100, max: 20_000 }),
        (before, after, decayMs) => {
          const ewma = new PeakEwma(before, 0);
          // One sample every decayMs/50: after three decay windows the estimate must have
          // closed at least 95 % of the gap (1 - e^-3), whichever way the step went.
          const step = decayMs / 50;
          for (let i = 1; i <= 50; i++) ewma.observe(before, i * step, decayMs);
          for (let i = 51; i <= 200; i++) ewma.observe(after, i * step, decayMs);
          const estimate = ewma.estimateMs;
          expect(Math.abs(estimate - after)).toBeLessThanOrEqual(0.05 * Math.abs(before - after) + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('forgets the slow first answers of a fresh process within about the time it has been running', () => {
    const ewma = new PeakEwma(30, 0);
    ewma.observe(200, 1, 10_000); // a cold first answer
    for (let t = 2; t <= 1_000; t += 2) ewma.observe(5, t, 10_000);
    // A plain EWMA would still be at 5 + 195 x e^-0.1 = 181 ms.
    expect(ewma.estimateMs).toBeLessThan(10);
  });

  it('decays toward zero while no samples arrive, so an avoided endpoint is probed again', () => {
    const ewma = new PeakEwma(100, 0);
    expect(ewma.at(10_000, 10_000)).toBeCloseTo(100 / Math.E, 6);
  });
});

describe('P2C peak-EWMA', () => {
  it('gives a new endpoint the mean estimate of the others, not zero', () => {
    const factory = p2cPeakEwma({ random: seededRandom(7), clock: () => 0, discountStalls: false });
    const balancer = factory.create('svc');
    const set = endpoints(3);
    balancer.update(set.slice(0, 2));
    balancer.observe!(set[0]!, 10, true); // first sample: replaces the placeholder
    balancer.observe!(set[1]!, 50, true); // first sample too
    balancer.update(set);
    expect(balancer.snapshot().map((s) => s.latencyMs)).toEqual([10, 50, 30]);
  });

  it('starts every endpoint at the configured estimate when nothing is known', () => {
    const balancer = p2cPeakEwma({ initialLatencyMs: 12, clock: () => 0, discountStalls: false }).create(
      'svc',
    );
    balancer.update(endpoints(2));
    expect(balancer.snapshot().map((s) => s.latencyMs)).toEqual([12, 12]);
  });

  it('sends almost nothing to an endpoint ten times slower than the others', () => {
    let now = 0;
    const balancer = p2cPeakEwma({ random: seededRandom(3), clock: () => now, discountStalls: false }).create(
      'svc',
    );
    const set = endpoints(5);
    balancer.update(set);
    const counts = tally(() => {
      now += 1;
      const chosen = balancer.pick(request())!;
      balancer.observe!(chosen, chosen === set[0] ? 100 : 10, true);
      return chosen;
    }, 5_000);
    expect(counts.get(set[0]!.id) ?? 0).toBeLessThan(5_000 * 0.01);
  });

  it('counts a fast failure as slow, so a failing endpoint does not attract traffic', () => {
    let now = 0;
    const balancer = p2cPeakEwma({ random: seededRandom(4), clock: () => now, discountStalls: false }).create(
      'svc',
    );
    const set = endpoints(4);
    balancer.update(set);
    const counts = tally(() => {
      now += 1;
      const chosen = balancer.pick(request())!;
      balancer.observe!(chosen, chosen === set[0] ? 1 : 10, chosen !== set[0]);
      return chosen;
    }, 4_000);
    expect(counts.get(set[0]!.id) ?? 0).toBeLessThan(4_000 * 0.05);
  });

  it('does not blame endpoints for time this process spent stalled', async () => {
    const measure = async (discountStalls: boolean) => {
      const balancer = p2cPeakEwma({ discountStalls }).create('svc');
      const [ep] = endpoints(1);
      balancer.update([ep!]);
      await new Promise((resolve) => setTimeout(resolve, 30)); // let the stall monitor tick
      const started = performance.now();
      while (performance.now() - started < 60) {} // a 60 ms synchronous task blocks the loop
      const latency = performance.now() - started;
      balancer.observe!(ep!, latency, true);
      return { latency, estimate: balancer.snapshot()[0]!.latencyMs! };
    };
    const kept = await measure(false);
    expect(kept.estimate).toBeCloseTo(kept.latency, 1);
    const discounted = await measure(true);
    expect(discounted.estimate).toBeLessThan(discounted.latency - 45);
  });

  it('never picks the endpoint with the highest cost when there are several', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 2, maxLength: 30 }),
        fc.integer(),
        (loads, seed) => {
          const balancer = p2cLeastLoaded({ random: seededRandom(seed) }).create('svc');
          const set = endpoints(loads.length);
          set.forEach((ep, i) => {
            ep.inflight = loads[i]!;
          });
          balancer.update(set);
          const max = Math.max(...loads);
          const uniqueMax = loads.filter((l) => l === max).length === 1;
          for (let i = 0; i < 30; i++) {
            const chosen = balancer.pick(request())!;
            if (uniqueMax) expect(chosen.inflight).toBeLessThan(max);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sends less to an endpoint in slow start, in proportion to its factor', () => {
    const balancer = p2cLeastLoaded({ random: seededRandom(9) }).create('svc');
    const set = endpoints(2);
    set[0]!.slowStartFactor = 0.1;
    set[1]!.inflight = 3;
    balancer.update(set);
    // cost 1/0.1 = 10 against 4: the warming endpoint loses although it is idle.
    expect(tally(() => balancer.pick(request()), 100).get(set[0]!.id)).toBeUndefined();
  });
});
