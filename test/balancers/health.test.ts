import { EventEmitter } from 'eventemitter3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EndpointHealth } from '../../src/balancers/health/endpoint-health.js';
import { type HealthOptions, resolveHealthOptions } from '../../src/balancers/health/health-options.js';
import { OutlierDetector } from '../../src/balancers/health/outlier-detector.js';
import { healthLayer, p2cPeakEwma } from '../../src/balancers/index.js';
import { ErrorCode, TrellisError } from '../../src/core/errors.js';
import type { MeshEvents } from '../../src/core/events.js';
import { seededRandom } from '../../src/core/time.js';
import { testServiceHandle } from '../../src/index.js';
import { EndpointRuntimeHandle } from '../../src/service/endpoint-handle.js';
import type { MeshEndpoint } from '../../src/service/mesh-endpoint.js';
import { endpoints, request } from '../support/balancer-endpoints.js';
import { ManualClock } from '../support/manual-clock.js';

/**
 * A detector over a real balancer and event emitter, driven by a hand-moved clock. Each endpoint
 * gets the real endpoint handle the mesh gives endpoint stacks; status changes reach the
 * balancer at once here (the mesh coalesces them into one update per turn).
 */
function setup(count: number, options: HealthOptions = {}) {
  const clock = { now: 0 };
  const set = endpoints(count);
  const balancer = p2cPeakEwma({
    random: seededRandom(1),
    clock: () => clock.now,
    discountStalls: false,
  }).create('svc');
  balancer.update(set);
  const events = new EventEmitter<MeshEvents>();
  const ejections: Array<[string, string, number]> = [];
  events.on('endpointEjected', (_service, id, reason, ms) => ejections.push([id, reason, ms]));
  const service = {
    ...testServiceHandle({ name: 'svc', balancer, events, endpoints: () => set }),
    statusChanged: () => balancer.update(set),
  };
  const detector = new OutlierDetector(service, resolveHealthOptions({ ...options, clock: () => clock.now }));
  const handles = new Map<MeshEndpoint, { handle: EndpointRuntimeHandle; health: EndpointHealth }>();
  const admit = (ep: MeshEndpoint) => {
    const handle = new EndpointRuntimeHandle(service, ep);
    handles.set(ep, { handle, health: detector.admit(handle, clock.now) });
  };
  for (const ep of set) admit(ep);
  detector.sync();
  const entry = (ep: MeshEndpoint) => handles.get(ep)!;
  const tracked = {
    failure: (ep: MeshEndpoint) => detector.failure(entry(ep).handle, entry(ep).health),
    success: (ep: MeshEndpoint) => detector.success(entry(ep).health),
  };
  const advance = (ms: number) => {
    for (let t = 0; t < ms; t += 250) {
      clock.now += 250;
      detector.tick();
    }
  };
  return { clock, set, balancer, detector: tracked, ejections, advance, admit };
}

type Tracked = ReturnType<typeof setup>['detector'];

function fail(detector: Tracked, ep: MeshEndpoint, times: number) {
  for (let i = 0; i < times; i++) detector.failure(ep);
}

describe('the health layer', () => {
  it('ejects an endpoint after five failures in a row, and the balancer stops choosing it', () => {
    const { set, balancer, detector, ejections } = setup(4);
    fail(detector, set[0]!, 4);
    detector.success(set[0]!);
    fail(detector, set[0]!, 4);
    expect(set[0]!.state).toBe('active');
    detector.failure(set[0]!);
    expect(set[0]!.state).toBe('ejected');
    expect(ejections).toEqual([[set[0]!.id, 'consecutive-failures', 5_000]]);
    for (let i = 0; i < 200; i++) expect(balancer.pick(request())).not.toBe(set[0]);
  });

  it('doubles the ejection time with each repeat, up to the maximum', () => {
    const { set, detector, ejections, advance } = setup(4, { maxEjectionMs: 30_000, successRate: false });
    for (let round = 0; round < 5; round++) {
      fail(detector, set[0]!, round === 0 ? 5 : 1); // back on probation: one failure is enough
      expect(set[0]!.state).toBe('ejected');
      advance(ejections.at(-1)![2]);
      expect(set[0]!.state).toBe('active');
    }
    expect(ejections.map((e) => e[2])).toEqual([5_000, 10_000, 20_000, 30_000, 30_000]);
  });

  it('returns an endpoint through slow start: a tenth of its share at first, all of it after the window', () => {
    const { set, detector, advance } = setup(3, { slowStartMs: 10_000, successRate: false });
    fail(detector, set[1]!, 5);
    advance(5_000);
    expect(set[1]!.state).toBe('active');
    expect(set[1]!.slowStartFactor).toBeCloseTo(0.1, 5);
    advance(5_000);
    expect(set[1]!.slowStartFactor).toBeCloseTo(0.55, 5);
    advance(5_000);
    expect(set[1]!.slowStartFactor).toBe(1);
  });

  it('slow-starts endpoints that join later, but not the first set discovery publishes', () => {
    const { set, admit } = setup(2);
    expect(set.map((ep) => ep.slowStartFactor)).toEqual([1, 1]);
    const joining = endpoints(3)[2]!;
    set.push(joining);
    admit(joining);
    expect(joining.slowStartFactor).toBeCloseTo(0.1, 5);
  });

  it('never ejects more than the maximum percentage, whatever fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 300 }),
        (count, percent, outcomes) => {
          const { set, detector, advance } = setup(count, { maxEjectionPercent: percent });
          const limit = percent === 0 ? 0 : Math.max(1, Math.floor((count * percent) / 100));
          outcomes.forEach(([which, ok], i) => {
            const ep = set[which % count]!;
            if (ok) detector.success(ep);
            else detector.failure(ep);
            if (i % 50 === 0) advance(250);
            expect(set.filter((e) => e.state === 'ejected').length).toBeLessThanOrEqual(limit);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('ejects an endpoint whose success rate is far below its peers', () => {
    const { set, detector, ejections, advance } = setup(5, { consecutiveFailures: 100 });
    for (let i = 0; i < 40; i++) {
      for (const ep of set) {
        if (ep === set[2] && i % 2 === 0) detector.failure(ep);
        else detector.success(ep);
      }
    }
    advance(10_000);
    expect(ejections).toEqual([[set[2]!.id, 'success-rate', 5_000]]);
  });

  it('leaves near-perfect endpoints alone although one is a little worse', () => {
    const { set, detector, ejections, advance } = setup(5);
    for (let i = 0; i < 100; i++) {
      for (const ep of set) {
        if (ep === set[2] && i % 25 === 0) detector.failure(ep);
        else detector.success(ep);
      }
    }
    advance(10_000);
    expect(ejections).toEqual([]);
  });

  it('counts connection errors and 5xx against an endpoint but not caller aborts (stubbed transport)', async () => {
    const { set, balancer } = setup(4);
    const events = new EventEmitter<MeshEvents>();
    const service = testServiceHandle({ name: 'svc', balancer, events, endpoints: () => set });
    const owner = { ...service, statusChanged: () => balancer.update(set) };
    // The layer is built for one endpoint, as the mesh builds it in each endpoint stack.
    const handle = new EndpointRuntimeHandle(owner, set[0]!);
    let outcome: () => Promise<never> | Promise<{ statusCode: number; headers: object }> = () =>
      Promise.reject(new TrellisError(ErrorCode.Aborted, 'aborted by the caller'));
    const layer = healthLayer({ consecutiveFailures: 3 });
    const call = layer.wrap(() => outcome() as never, handle);
    const attempt = async () => {
      const ctx = request();
      ctx.endpoint = set[0];
      await call(ctx).catch(() => undefined);
    };
    for (let i = 0; i < 10; i++) await attempt();
    expect(set[0]!.state).toBe('active');
    outcome = () => Promise.resolve({ statusCode: 503, headers: {} });
    for (let i = 0; i < 2; i++) await attempt();
    outcome = () => Promise.reject(new TrellisError(ErrorCode.UpstreamUnavailable, 'connection refused'));
    await attempt();
    expect(set[0]!.state).toBe('ejected');
    await service.close(); // stops the layer's timers
  });

  it("ends an ejection on the layer's own ticker, driven by the clock it was given, and stops it on close", async () => {
    const { set, balancer } = setup(4);
    const clock = new ManualClock();
    const handle = testServiceHandle({ name: 'svc', balancer, endpoints: () => set });
    const owner = { ...handle, statusChanged: () => balancer.update(set) };
    const layer = healthLayer({ consecutiveFailures: 1, baseEjectionMs: 2_000, slowStartMs: 0, clock });
    const service = layer.wrap(
      () => Promise.resolve({ statusCode: 503, headers: {} }) as never,
      new EndpointRuntimeHandle(owner, set[0]!),
    );
    const ctx = request();
    ctx.endpoint = set[0];
    await service(ctx);
    expect(set[0]!.state).toBe('ejected');
    await clock.advance(1_999);
    expect(set[0]!.state).toBe('ejected');
    // The next tick (every 250 ms) after the ejection time returns it.
    await clock.advance(250);
    expect(set[0]!.state).toBe('active');
    expect(clock.pending).toBe(1);
    await handle.close();
    expect(clock.pending).toBe(0);
  });

  it('refuses to be built above the balance layer, where it would not see one endpoint', () => {
    const { set, balancer } = setup(1);
    const service = testServiceHandle({ name: 'svc', balancer, endpoints: () => set });
    expect(() => healthLayer().wrap(() => Promise.reject(new Error('unused')), service)).toThrow(
      /belongs below 'balance'/,
    );
  });

  it('rejects bad options with every problem listed', () => {
    const layer = healthLayer({
      consecutiveFailures: 0,
      maxEjectionPercent: 120,
      activeCheck: { path: 'healthz' },
    });
    expect(layer.validate?.().join('; ')).toMatch(
      /consecutiveFailures must be an integer >= 1.*maxEjectionPercent must be a number from 0 to 100.*activeCheck.path must start with '\/'/,
    );
  });
});
