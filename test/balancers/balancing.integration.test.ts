import { afterEach, describe, expect, it } from 'vitest';
import { healthLayer, p2cPeakEwma, roundRobin } from '../../src/balancers/index.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { type ProfiledUpstream, startProfiled } from '../support/profiled-upstreams.js';

const running: ProfiledUpstream[] = [];
let mesh: Mesh | undefined;

afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
  await Promise.all(running.splice(0).map((u) => u.stop()));
});

async function upstreams(...profiles: Array<[string, Parameters<typeof startProfiled>[1]]>) {
  const started = await Promise.all(profiles.map(([name, profile]) => startProfiled(name, profile)));
  running.push(...started);
  return started;
}

/** Sends `total` requests, `concurrency` at a time; counts answers per upstream name and failures. */
async function load(m: Mesh, total: number, concurrency: number) {
  const served = new Map<string, number>();
  let failures = 0;
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      try {
        const res = await m.request({ service: 'api', path: '/' });
        await res.body.dump();
        if (res.statusCode >= 500) failures++;
        const name = String(res.headers['x-upstream']);
        served.set(name, (served.get(name) ?? 0) + 1);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { served, failures };
}

describe('balancing against real upstream processes', () => {
  it('gives an endpoint fifty times slower than the others little traffic with P2C peak-EWMA', async () => {
    const [slow, ...fast] = await upstreams(
      ['slow', { delayMs: 100 }],
      ['a', { delayMs: 2 }],
      ['b', { delayMs: 2 }],
      ['c', { delayMs: 2 }],
    );
    // A short decay time, so that the first, cold answers (connection set-up, a fresh process)
    // are forgotten within the test; the default (10 s) behaves the same over a longer run. The
    // wide gap (50x) keeps the test meaningful when a busy machine adds tens of ms to any answer.
    mesh = Mesh.builder()
      .service('api', (s) =>
        s
          .discovery(staticEndpoints([slow!, ...fast].map((u) => u.address)))
          .balancer(p2cPeakEwma({ decayMs: 300 })),
      )
      .build();
    await load(mesh, 300, 6);
    const { served, failures } = await load(mesh, 600, 6);
    expect(failures).toBe(0);
    // Round robin sends it a quarter (150); the bound leaves room for a busy, shared machine.
    expect(served.get('slow') ?? 0).toBeLessThan(600 * 0.1);
    const snapshot = mesh.snapshot('api');
    const slowEntry = snapshot.find((e) => e.id === slow!.address)!;
    const fastEntry = snapshot.find((e) => e.id === fast[0]!.address)!;
    expect(slowEntry.latencyMs!).toBeGreaterThan(fastEntry.latencyMs!);
  });

  it('ejects an endpoint that answers 503 after five failures in a row, and nothing fails after', async () => {
    const [failing, ...healthy] = await upstreams(['failing', { errorRate: 1 }], ['a', {}], ['b', {}]);
    mesh = Mesh.builder()
      .service('api', (s) =>
        // No retries or breaker: the caller must see each failure the health layer counts.
        s
          .discovery(staticEndpoints([failing!, ...healthy].map((u) => u.address)))
          .balancer(roundRobin())
          .stack((st) => st.remove('retry').remove('breaker')),
      )
      .build();
    const reasons: string[] = [];
    mesh.on('endpointEjected', (_service, _id, reason) => reasons.push(reason));
    const first = await load(mesh, 60, 1);
    expect(first.failures).toBe(5);
    expect(reasons).toEqual(['consecutive-failures']);
    const next = await load(mesh, 200, 4);
    expect(next.failures).toBe(0);
    expect(next.served.get('failing')).toBeUndefined();
  });

  it('ejects a killed endpoint on failed active checks, and brings it back through slow start once restarted', async () => {
    const [doomed, ...others] = await upstreams(['doomed', {}], ['a', {}], ['b', {}]);
    const ejected: string[] = [];
    const returned: string[] = [];
    mesh = Mesh.builder()
      .service('api', (s) =>
        // Round robin: P2C would leave an endpoint whose cold first answer was slow without
        // traffic for seconds on a loaded machine, and this test is about the checks.
        s
          .discovery(staticEndpoints([doomed!, ...others].map((u) => u.address)))
          .balancer(roundRobin())
          .layer(
            healthLayer({
              baseEjectionMs: 500,
              slowStartMs: 2_000,
              activeCheck: { path: '/healthz', intervalMs: 100, timeoutMs: 500, failures: 2 },
            }),
          ),
      )
      .build();
    mesh.on('endpointEjected', (_service, id) => ejected.push(id));
    mesh.on('endpointReturned', (_service, id) => returned.push(id));
    // The premise: all three serve. On a loaded machine a slow first check can eject one, so
    // send traffic until the doomed one has answered (bounded), then watch only what follows.
    let servedByDoomed = 0;
    for (let round = 0; round < 40 && servedByDoomed === 0; round++) {
      servedByDoomed = (await load(mesh, 50, 3)).served.get('doomed') ?? 0;
      if (servedByDoomed === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(servedByDoomed).toBeGreaterThan(0);
    ejected.length = 0;
    returned.length = 0;

    await doomed!.stop();
    // Keep traffic flowing until the active checks (every 100 ms, two failures) eject it. Bounded
    // by time, not by rounds: on a fast machine fifty rounds end before the second check runs.
    const ejectBy = performance.now() + 5_000;
    while (ejected.length === 0 && performance.now() < ejectBy) {
      await load(mesh, 20, 3);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(ejected).toEqual([doomed!.address]);
    expect(mesh.snapshot('api').find((e) => e.id === doomed!.address)!.state).toBe('ejected');
    const during = await load(mesh, 150, 3);
    expect(during.failures).toBe(0);
    expect(during.served.get('doomed')).toBeUndefined();

    const restarted = await startProfiled('doomed', {}, doomed!.port);
    running.push(restarted);
    // It stays ejected until a check passes after the ejection time.
    for (let round = 0; round < 100 && mesh.snapshot('api')[0]!.state !== 'active'; round++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(returned.at(-1)).toBe(doomed!.address);
    const back = mesh.snapshot('api').find((e) => e.id === doomed!.address)!;
    expect(back.state).toBe('active');
    expect(back.slowStartFactor).toBeLessThan(1);
    // Slow start: little traffic at first, more as its factor grows over the 2 s window. Keep
    // traffic flowing past the end of the window (time-bounded: how many requests fit in 2 s
    // depends on the machine).
    let failures = 0;
    let served = 0;
    const until = performance.now() + 4_000;
    while (served === 0 && performance.now() < until) {
      const round = await load(mesh, 50, 3);
      failures += round.failures;
      served += round.served.get('doomed') ?? 0;
    }
    expect(failures).toBe(0);
    expect(served).toBeGreaterThan(0);
  });
});
