import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import type { Layer } from '../../src/core/layer.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh, type MeshRequestOptions } from '../../src/mesh/mesh.js';
import { adaptiveConcurrency, bulkhead } from '../../src/resilience/concurrency/concurrency-layer.js';
import { GradientLimit } from '../../src/resilience/concurrency/gradient-limit.js';
import { rateLimit } from '../../src/resilience/rate-limit/rate-limit-layer.js';
import { adaptiveThrottle } from '../../src/resilience/throttle/adaptive-throttle.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

/** A layer that records how many attempts are in flight below it (the upstream cannot tell us). */
function inflightProbe(): Layer & { now: number; max: number } {
  const probe = {
    name: 'probe',
    now: 0,
    max: 0,
    wrap: (next: Parameters<Layer['wrap']>[0]) => async (ctx: Parameters<typeof next>[0]) => {
      probe.max = Math.max(probe.max, ++probe.now);
      try {
        return await next(ctx);
      } finally {
        probe.now--;
      }
    },
  };
  return probe;
}

async function call(
  mesh: Mesh,
  path: string,
  extra: Partial<MeshRequestOptions> = {},
): Promise<number | string> {
  try {
    const response = await mesh.request({ service: 'svc', path, ...extra });
    await response.body.dump();
    return response.statusCode;
  } catch (err) {
    return isTrellisError(err) ? err.code : String(err);
  }
}

function count(results: Array<number | string>, value: number | string): number {
  return results.filter((r) => r === value).length;
}

describe('concurrency control against a real upstream', () => {
  let upstream: Upstream;
  let mesh: Mesh | undefined;
  const meshWith = (...layers: Layer[]): Mesh => {
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s.discovery(staticEndpoints([upstream.address])).stack((st) => {
          for (const layer of layers) st = st.insertBefore('balance', layer);
          return st;
        }),
      )
      .build();
    return mesh;
  };
  beforeAll(async () => {
    upstream = await startUpstream('limits');
  });
  afterAll(async () => {
    await mesh?.close();
    await upstream.stop();
  });

  it('bulkhead never exceeds max in flight and rejects beyond its queue', async () => {
    const probe = inflightProbe();
    const m = meshWith(bulkhead({ maxInFlight: 3, maxQueue: 2, maxWaitMs: 5_000 }), probe);
    const results = await Promise.all(Array.from({ length: 10 }, () => call(m, '/slow?ms=80')));
    expect(count(results, 200)).toBe(5);
    expect(count(results, ErrorCode.ConcurrencyLimited)).toBe(5);
    expect(probe.max).toBe(3);
    expect(await call(m, '/echo')).toBe(200); // every slot came back
    await m.close();
  });

  it('bulkhead gives up on a queued call at maxWaitMs, at its deadline, or when its caller aborts', async () => {
    const m = meshWith(bulkhead({ maxInFlight: 1, maxQueue: 5, maxWaitMs: 50 }));
    const holder = call(m, '/slow?ms=400');
    const controller = new AbortController();
    const queued = [
      call(m, '/echo'),
      call(m, '/echo', { timeout: 20 }),
      call(m, '/echo', { signal: controller.signal }),
    ];
    controller.abort();
    expect(await Promise.all(queued)).toEqual([
      ErrorCode.ConcurrencyLimited,
      ErrorCode.DeadlineExceeded,
      ErrorCode.Aborted,
    ]);
    expect(await holder).toBe(200);
    expect(await call(m, '/echo')).toBe(200);
    await m.close();
  });

  it('adaptive limit shrinks when the upstream slows down and grows back when it recovers', async () => {
    let limit: GradientLimit | undefined;
    const m = meshWith(
      adaptiveConcurrency({
        limit: () => (limit = new GradientLimit({ initialLimit: 8, maxLimit: 12, tolerance: 3 })),
        maxQueue: 64,
        maxWaitMs: 5_000,
      }),
    );
    // A busy test machine stretches 5 ms answers many times over, so the slowdown is made unmistakable.
    const phase = async (path: string, requests: number): Promise<number> => {
      let left = requests;
      const worker = async () => {
        while (left-- > 0) expect(await call(m, path)).toBe(200);
      };
      // 8 callers keep the limit (at most 12) at least half used, or samples would teach it
      // nothing, and few enough that a loaded machine keeps fast answers fast.
      await Promise.all(Array.from({ length: 8 }, worker));
      return limit!.current;
    };
    const steady = await phase('/slow?ms=5', 100);
    const slowed = await phase('/slow?ms=500', 24);
    expect(slowed, `limit ${steady} when fast, ${slowed} when slow`).toBeLessThan(steady);
    const recovered = await phase('/slow?ms=5', 100);
    expect(recovered, `limit ${slowed} when slow, ${recovered} after recovery`).toBeGreaterThan(slowed);
    await m.close();
  });

  it('adaptive throttle sheds most calls locally while the upstream answers 503, and recovers', async () => {
    let now = 0;
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647; // Park-Miller: a seeded, reproducible stream
      return (seed - 1) / 2147483646;
    };
    const m = meshWith(adaptiveThrottle({ k: 2, windowMs: 10_000, buckets: 10, clock: () => now, random }));
    const results: Array<number | string> = [];
    for (let i = 0; i < 60; i++) results.push(await call(m, '/status/503'));
    const sent = count(results, 503);
    expect(count(results, ErrorCode.RateLimited)).toBe(60 - sent);
    expect(sent).toBeLessThan(20);
    now += 10_000; // the window forgets the 503s
    expect(await call(m, '/echo')).toBe(200);
    await m.close();
  });

  it('adaptive throttle does not mistake a burst of calls still in flight for rejections', async () => {
    const m = meshWith(adaptiveThrottle({ k: 2 }));
    const results = await Promise.all(Array.from({ length: 30 }, () => call(m, '/slow?ms=50')));
    expect(count(results, 200)).toBe(30);
    await m.close();
  });

  it('rate limit lets exactly the burst through a sudden flood, then the refill rate', async () => {
    let now = 0;
    const probe = inflightProbe();
    const m = meshWith(rateLimit({ ratePerSecond: 10, burst: 5, clock: () => now }), probe);
    const flood = await Promise.all(Array.from({ length: 20 }, () => call(m, '/echo')));
    expect(count(flood, 200)).toBe(5);
    expect(count(flood, ErrorCode.RateLimited)).toBe(15);
    now += 300; // three tokens
    const later = await Promise.all(Array.from({ length: 5 }, () => call(m, '/echo')));
    expect(count(later, 200)).toBe(3);
    await m.close();
  });

  it('rejects invalid options with a clear error', () => {
    // Reported by build() with the rest of the configuration (validate()), not thrown by the factory.
    expect(bulkhead({ maxInFlight: 0, maxQueue: -1 }).validate?.().join('; ')).toMatch(
      /maxInFlight.*maxQueue/,
    );
    expect(rateLimit({ ratePerSecond: Number.NaN }).validate?.().join()).toMatch(
      /ratePerSecond must be a number/,
    );
    expect(adaptiveThrottle({ k: 0.5 }).validate?.().join()).toMatch(/k must be a number >= 1/);
  });
});
