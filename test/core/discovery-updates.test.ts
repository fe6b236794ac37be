import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Endpoint, ErrorCode, isTrellisError, type Layer, Mesh } from '../../src/index.js';
import type { MeshEndpoint } from '../../src/service/mesh-endpoint.js';
import { manualResolver } from '../support/manual-resolver.js';
import { nextEvent } from '../support/next-event.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let a: Upstream;
let b: Upstream;
let mesh: Mesh | undefined;

beforeAll(async () => {
  [a, b] = (await startUpstreams('a', 'b')) as [Upstream, Upstream];
});

afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

/** A layer below `balance` that records the endpoint each attempt went to. */
function recordEndpoints(seen: MeshEndpoint[]): Layer {
  return {
    name: 'record-endpoint',
    wrap: (next) => (ctx) => {
      // The mesh's endpoints are MeshEndpoints; layers see them through the EndpointView contract.
      seen.push(ctx.endpoint as MeshEndpoint);
      return next(ctx);
    },
  };
}

/**
 * The next endpoint set the mesh applies. Waiting for the event, rather than expecting the set
 * right after publishing, keeps these tests true if discovery debounces updates.
 */
async function nextEndpoints(m: Mesh): Promise<readonly Endpoint[]> {
  return (await nextEvent(m, 'endpoints'))[1] as readonly Endpoint[];
}

async function answerOf(m: Mesh, path = '/'): Promise<string> {
  return (await m.request({ service: 'svc', path })).body.text();
}

describe('discovery updates', () => {
  it('keeps the last good set and emits discoveryError when an update holds a malformed entry', async () => {
    const resolver = manualResolver([a.address]);
    mesh = Mesh.builder()
      .service('svc', (s) => s.discovery(resolver))
      .build();
    const errors: Array<[string, Error]> = [];
    mesh.on('discoveryError', (service, err) => errors.push([service, err]));
    resolver.publish([b.address, 'not-an-endpoint']);
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toBe('svc');
    expect(isTrellisError(errors[0]![1], ErrorCode.InvalidDiscoveryData)).toBe(true);
    expect(errors[0]![1].message).toMatch(/not-an-endpoint.*port is missing/);
    expect(mesh.snapshot('svc').map((e) => e.id)).toEqual([a.address]);
    expect(await answerOf(mesh)).toBe('ok a');
  });

  it('keeps the last good set when a resolver publishes something that is not an array', async () => {
    const resolver = manualResolver([a.address]);
    mesh = Mesh.builder()
      .service('svc', (s) => s.discovery(resolver))
      .build();
    const errors: Error[] = [];
    mesh.on('discoveryError', (_service, err) => errors.push(err));
    resolver.publish({ host: '127.0.0.1' } as never);
    expect(errors[0]?.message).toMatch(/array of endpoints/);
    expect(await answerOf(mesh)).toBe('ok a');
  });

  it('wraps a resolver failure in TRELLIS_DISCOVERY_FAILED naming the service and resolver', async () => {
    const resolver = manualResolver([a.address]);
    mesh = Mesh.builder()
      .service('svc', (s) => s.discovery(resolver))
      .build();
    const errors: Error[] = [];
    mesh.on('discoveryError', (_service, err) => errors.push(err));
    resolver.fail(new Error('registry unreachable'));
    expect(isTrellisError(errors[0], ErrorCode.DiscoveryFailed)).toBe(true);
    expect(errors[0]!.message).toMatch(
      /'svc' \(manual\) failed: registry unreachable\. The last known endpoints/,
    );
    expect(await answerOf(mesh)).toBe('ok a');
  });

  it('emits the new set on the endpoints event and sends traffic only to it', async () => {
    const resolver = manualResolver([a.address]);
    mesh = Mesh.builder()
      .service('svc', (s) => s.discovery(resolver))
      .build();
    const applied = nextEndpoints(mesh);
    resolver.publish([b.address]);
    expect((await applied).map((e) => e.id)).toEqual([b.address]);
    expect([await answerOf(mesh), await answerOf(mesh)]).toEqual(['ok b', 'ok b']);
  });

  it('creates one pool per endpoint lazily, on its first request, and reuses it', async () => {
    const seen: MeshEndpoint[] = [];
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s
          .discovery(manualResolver([a.address]))
          .stack((st) => st.insertAfter('balance', recordEndpoints(seen))),
      )
      .build();
    await answerOf(mesh);
    const [endpoint] = seen;
    expect(endpoint!.connected).toBe(true);
    const pool = endpoint!.pool;
    await answerOf(mesh);
    expect(seen[1]).toBe(endpoint);
    expect(seen[1]!.pool).toBe(pool);
  });

  it('drains an endpoint that leaves discovery: its in-flight request completes, then its pool closes', async () => {
    const resolver = manualResolver([a.address]);
    const seen: MeshEndpoint[] = [];
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s.discovery(resolver).stack((st) => st.insertAfter('balance', recordEndpoints(seen))),
      )
      .build();
    const slow = mesh.request({ service: 'svc', path: '/slow?ms=1000' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const applied = nextEndpoints(mesh);
    resolver.publish([b.address]);
    await applied;
    const removed = seen[0]!;
    // It left discovery while its request was still waiting for an answer.
    expect(removed.inflight).toBe(1);
    expect(removed.state).toBe('draining');
    expect(mesh.snapshot('svc').map((e) => e.id)).toEqual([b.address]);
    // The request already sent to the removed endpoint still gets its whole answer.
    const res = await slow;
    expect(await res.body.text()).toBe('slow a');
    // close() on an already-closing pool resolves once the first close has finished.
    await removed.pool.close();
    expect(removed.pool.closed).toBe(true);
    expect(await answerOf(mesh)).toBe('ok b');
  });

  it('drops an update that changes nothing, whatever the order, and passes on a changed weight or label', async () => {
    const resolver = manualResolver([a.address, { host: '127.0.0.1', port: b.port, metadata: { v: '1' } }], {
      debounceMs: 0,
    });
    const seen: MeshEndpoint[] = [];
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s.discovery(resolver).stack((st) => st.insertAfter('balance', recordEndpoints(seen))),
      )
      .build();
    const events: Array<readonly Endpoint[]> = [];
    mesh.on('endpoints', (_service, endpoints) => events.push(endpoints));
    await answerOf(mesh);
    const before = seen[0]!;
    resolver.publish([{ host: '127.0.0.1', port: b.port, metadata: { v: '1' } }, a.address]);
    const relabelled = nextEndpoints(mesh);
    resolver.publish([a.address, { host: '127.0.0.1', port: b.port, weight: 2, metadata: { v: '2' } }]);
    const applied = await relabelled;
    // Only the second update changed anything, and only it was applied.
    expect(events).toHaveLength(1);
    expect(applied.find((e) => e.port === b.port)).toMatchObject({ weight: 2, metadata: { v: '2' } });
    // Endpoints that stay keep their live object (pool, latency history, health).
    seen.length = 0;
    for (let i = 0; i < 4; i++) await answerOf(mesh);
    expect(seen).toContain(before);
    expect(mesh.snapshot('svc').find((e) => e.id === b.address)?.weight).toBe(2);
  });

  it('applies a 20,000-endpoint update in slices: requests are served meanwhile, and the set switches at once', async () => {
    const big = manualResolver(['10.0.0.1:8080'], { debounceMs: 0 });
    mesh = Mesh.builder()
      .service('svc', (s) => s.discovery(manualResolver([a.address])))
      .service('big', (s) => s.discovery(big))
      .build();
    const m = mesh;
    const huge = Array.from({ length: 20_000 }, (_, i) => `10.1.${i >> 8}.${i & 255}:8080`);
    let servedBeforeSwitch = 0;
    let sizeSeenByRequests = -1;
    const switched = new Promise<number>((resolve) =>
      m.on('endpoints', (service, endpoints) => {
        if (service === 'big') resolve(endpoints.length);
      }),
    );
    let switchedYet = false;
    void switched.then(() => {
      switchedYet = true;
    });
    big.publish(huge);
    // The update is being worked out, not in force yet: the balancer still has the old set.
    expect(m.snapshot('big').map((e) => e.id)).toEqual(['10.0.0.1:8080']);
    while (!switchedYet) {
      const answer = await answerOf(m);
      if (switchedYet) break;
      expect(answer).toBe('ok a');
      servedBeforeSwitch++;
      // Never half a set: between slices requests see the old set whole.
      sizeSeenByRequests = m.snapshot('big').length;
      expect(sizeSeenByRequests).toBe(1);
    }
    expect(await switched).toBe(20_000);
    expect(servedBeforeSwitch).toBeGreaterThan(0);
    expect(m.snapshot('big')).toHaveLength(20_000);
  });

  it('ends with the newest set whatever stage a large update has reached when it arrives, and never applies half a set', async () => {
    const set = (n: number, third: number) =>
      Array.from({ length: n }, (_, i) => `10.${third}.${i >> 8}.${i & 255}:8080`);
    // The newer set arrives while the large one is validated, diffed, or already applied.
    for (const delayMs of [0, 2, 5, 10, 20, 40]) {
      const big = manualResolver(['10.0.0.1:8080'], { debounceMs: 0 });
      const m = Mesh.builder()
        .service('big', (s) => s.discovery(big))
        .build();
      mesh = m;
      const sizes: number[] = [];
      const done = new Promise<void>((resolve) =>
        m.on('endpoints', (_service, endpoints) => {
          sizes.push(endpoints.length);
          if (endpoints.length === 3) resolve();
        }),
      );
      big.publish(set(20_000, 1));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      big.publish(set(15_000, 2));
      big.publish(set(3, 3));
      await done;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sizes.at(-1)).toBe(3);
      for (const size of sizes) expect([20_000, 15_000, 3]).toContain(size);
      expect(m.snapshot('big').map((e) => e.id)).toEqual(set(3, 3));
      await m.close();
    }
  });

  it('stops the resolver when the mesh closes', async () => {
    const resolver = manualResolver([a.address]);
    mesh = Mesh.builder()
      .service('svc', (s) => s.discovery(resolver))
      .build();
    await mesh.close();
    expect(resolver.closed).toBe(1);
  });
});
