import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { healthLayer } from '../../src/balancers/index.js';
import { FreeList, type Reusable } from '../../src/core/free-list.js';
import { staticEndpoints } from '../../src/discovery/index.js';
import { type EndpointView, isEndpointHandle, type Layer, Mesh } from '../../src/index.js';
import { circuitBreaker, retries } from '../../src/resilience/index.js';
import { type ProfiledUpstream, startProfiled } from '../support/profiled-upstreams.js';

// The balance, health, retry, breaker and deadline layers are told each call's outcome through
// interceptions (pooled records, or one per service or endpoint) in one fused step, not on an
// async frame per call.
// These tests hold them to what the frames guaranteed: every outcome is counted once, on the
// endpoint and the call it belongs to, however many calls are in flight and in whatever order they end.

let upstreams: ProfiledUpstream[];
let mesh: Mesh | undefined;

beforeAll(async () => {
  upstreams = await Promise.all([
    startProfiled('fast', {}),
    startProfiled('slow', { delayMs: 15, spikeRate: 0.3, spikeMs: 30, seed: 7 }),
    startProfiled('flaky', { errorRate: 0.5, seed: 11 }),
  ]);
});
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});
afterAll(async () => {
  await Promise.all(upstreams.map((u) => u.stop()));
});

/** An endpoint-stack layer that only remembers the endpoints it was built for. */
function endpointsSeen(seen: EndpointView[]): Layer {
  return {
    name: 'endpoints-seen',
    wrap(next, handle) {
      if (isEndpointHandle(handle)) seen.push(handle.endpoint);
      return next;
    },
  };
}

interface Served {
  answers: number;
  failed: number;
}

describe('pooled continuations on the request path', () => {
  it('counts each of 2,000 calls, 400 in flight and ending out of order, once, on the endpoint that answered it', async () => {
    const seen: EndpointView[] = [];
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s
          .discovery(staticEndpoints(upstreams.map((u) => u.address)))
          .transport({ connections: 400 })
          // No retries (one attempt per call, so attempts and answers pair up) and no ejection
          // (every endpoint keeps its share), and a timeout on every call (the deadline's pooled
          // continuations too).
          .layer(retries({ retries: 0 }))
          .layer(healthLayer({ consecutiveFailures: 1_000_000, successRate: false }))
          .layer(circuitBreaker({ volumeThreshold: 1_000_000 }))
          .endpointLayer(endpointsSeen(seen)),
      )
      .build();
    const served = new Map<string, Served>(upstreams.map((u) => [u.name, { answers: 0, failed: 0 }]));
    let next = 0;
    const worker = async () => {
      while (next < 2_000) {
        next++;
        const { statusCode, headers, body } = await mesh!.request({
          service: 'svc',
          path: '/',
          timeout: 10_000,
        });
        await body.dump();
        const tally = served.get(String(headers['x-upstream']))!;
        tally.answers++;
        if (statusCode >= 500) tally.failed++;
        // The next call starts on the check phase, with the others that answered on the same
        // poll: records are then given back, and taken, several in a row.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all(Array.from({ length: 400 }, worker));

    expect(seen).toHaveLength(3);
    for (const upstream of upstreams) {
      const endpoint = seen.find((e) => e.id === upstream.address)!;
      const tally = served.get(upstream.name)!;
      expect({ name: upstream.name, attempts: endpoint.attempts, failures: endpoint.failures }).toEqual({
        name: upstream.name,
        attempts: tally.answers,
        failures: tally.failed,
      });
      expect(endpoint.inflight).toBe(0);
    }
    // The premise: the calls were spread, and some failed.
    expect(served.get('flaky')!.failed).toBeGreaterThan(0);
    expect([...served.values()].every((t) => t.answers > 0)).toBe(true);
  });

  it('fails the call when a layer below throws instead of rejecting, and every layer above counts it', async () => {
    const seen: EndpointView[] = [];
    const ejected: string[] = [];
    const opened: string[] = [];
    const throwing: Layer = {
      name: 'throws',
      wrap: () => () => {
        throw new TypeError('a layer that throws instead of returning a rejected promise');
      },
    };
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s
          .discovery(staticEndpoints([upstreams[0]!.address]))
          .layer(retries({ retries: 0 }))
          .layer(healthLayer({ consecutiveFailures: 3, maxEjectionPercent: 100 }))
          .layer(circuitBreaker({ volumeThreshold: 4, errorThresholdPercentage: 50 }))
          .endpointLayer(endpointsSeen(seen))
          .endpointLayer(throwing),
      )
      .build();
    mesh.on('endpointEjected', (_service, id) => ejected.push(id));
    mesh.on('circuit', (_service, state) => opened.push(state));
    for (let i = 0; i < 4; i++) {
      const call = mesh.request({ service: 'svc', path: '/', timeout: 5_000 });
      expect(call).toBeInstanceOf(Promise); // rejected, not thrown
      await expect(call).rejects.toThrow('a layer that throws instead');
    }
    const endpoint = seen[0]!;
    expect({ attempts: endpoint.attempts, failures: endpoint.failures, inflight: endpoint.inflight }).toEqual(
      {
        attempts: 4,
        failures: 4,
        inflight: 0,
      },
    );
    expect(ejected).toEqual([upstreams[0]!.address]); // health counted three in a row
    expect(opened).toContain('open'); // the breaker counted four calls, all failed
  });

  it('fails the call as a rejection when the balancer throws, and counts no attempt', async () => {
    const seen: EndpointView[] = [];
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s
          .discovery(staticEndpoints([upstreams[0]!.address]))
          .balancer({
            name: 'throws',
            create: () => ({
              name: 'throws',
              update() {},
              pick() {
                throw new RangeError('a balancer that throws from pick()');
              },
              snapshot: () => [],
            }),
          })
          .endpointLayer(endpointsSeen(seen)),
      )
      .build();
    await mesh.ready();
    const call = mesh.request({ service: 'svc', path: '/', timeout: 5_000 });
    expect(call).toBeInstanceOf(Promise); // rejected, not thrown
    await expect(call).rejects.toThrow('a balancer that throws');
    for (const endpoint of seen)
      expect({ attempts: endpoint.attempts, inflight: endpoint.inflight }).toEqual({
        attempts: 0,
        inflight: 0,
      });
  });

  it('a free list never hands out a record in use and keeps at most its limit idle (property)', () => {
    interface Item extends Reusable<Item> {
      readonly id: number;
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.array(fc.boolean(), { maxLength: 300 }),
        (limit, steps) => {
          let made = 0;
          const list = new FreeList<Item>(() => ({ id: made++, nextFree: undefined }), limit);
          const inUse = new Set<Item>();
          const idle = new Set<Item>();
          for (const take of steps) {
            if (take || inUse.size === 0) {
              const item = list.take();
              expect(inUse.has(item)).toBe(false);
              expect(item.nextFree).toBeUndefined();
              idle.delete(item);
              inUse.add(item);
            } else {
              const item = inUse.values().next().value as Item;
              inUse.delete(item);
              list.give(item);
              if (idle.size < limit) idle.add(item);
            }
            expect(idle.size).toBeLessThanOrEqual(limit);
          }
          // Every record made is in use, idle in the list, or dropped past the limit.
          expect(made).toBeGreaterThanOrEqual(inUse.size + idle.size);
        },
      ),
    );
  });
});
