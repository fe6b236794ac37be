import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type BalancerFactory, p2cPeakEwma, roundRobin } from '../../src/balancers/index.js';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import type { FailureClassifier } from '../../src/core/outcome.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { circuitBreaker } from '../../src/resilience/breaker/circuit-breaker.js';
import { freePort } from '../support/ports.js';
import { type Profile, type ProfiledUpstream, startProfiled } from '../support/profiled-upstreams.js';

// The end of the response body is where an attempt's outcome is final (issue 11): an endpoint
// that sends its headers and then resets the connection or stalls the body fails there, and
// health, the latency estimate and ejection must learn it; a caller giving up mid-body must not
// count against the endpoint.

const running: ProfiledUpstream[] = [];
let mesh: Mesh | undefined;

afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
  await Promise.all(running.splice(0).map((u) => u.stop()));
});

/** Three upstream processes: `bad` with the given profile, `a` and `b` healthy. */
async function threeUpstreams(bad: Profile): Promise<ProfiledUpstream[]> {
  const started = await Promise.all([startProfiled('bad', bad), startProfiled('a'), startProfiled('b')]);
  running.push(...started);
  return started;
}

interface BuildOptions {
  balancer: BalancerFactory;
  health?: boolean;
  idleTimeout?: number;
}

/**
 * A mesh over the upstreams with no retries and no breaker: the caller sees each failure the
 * health layer counts, and every request reaches an endpoint.
 */
function buildMesh(upstreams: ProfiledUpstream[], { balancer, health = true, idleTimeout }: BuildOptions) {
  const built = Mesh.builder()
    .service('api', (s) => {
      s.discovery(staticEndpoints(upstreams.map((u) => u.address)))
        .balancer(balancer)
        .stack((st) => {
          const edited = st.remove('retry').remove('breaker');
          return health ? edited : edited.remove('health');
        });
      if (idleTimeout !== undefined) s.transport({ idleTimeout });
    })
    .build();
  const ejected: string[] = [];
  built.on('endpointEjected', (_service, id) => ejected.push(id));
  mesh = built;
  return { mesh: built, ejected };
}

/**
 * Sends `total` requests, `concurrency` at a time, and reads each body to its end. Counts, per
 * upstream (its `x-upstream` header), the answers whose body arrived whole and those whose body
 * failed; `failures` counts every call that did not end with a whole body.
 */
async function load(m: Mesh, total: number, concurrency: number) {
  const whole = new Map<string, number>();
  const cut = new Map<string, number>();
  const codes = new Set<string>();
  let failures = 0;
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      let name = '?';
      try {
        const res = await m.request({ service: 'api', path: '/' });
        name = String(res.headers['x-upstream']);
        await res.body.text();
        whole.set(name, (whole.get(name) ?? 0) + 1);
      } catch (err) {
        failures++;
        cut.set(name, (cut.get(name) ?? 0) + 1);
        codes.add(isTrellisError(err) ? err.code : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { whole, cut, failures, codes };
}

describe('a body the endpoint cuts short or stalls is that endpoint failing', () => {
  it('round robin: an endpoint that resets mid-body is ejected after five, and gets no share after', async () => {
    const upstreams = await threeUpstreams({ bodyFault: 'reset' });
    const { mesh: m, ejected } = buildMesh(upstreams, { balancer: roundRobin() });
    // Round robin sends every third call to it: its fifth cut body ejects it.
    const first = await load(m, 30, 1);
    expect(first.cut.get('bad')).toBe(5);
    expect(first.failures).toBe(5);
    expect([...first.codes]).toEqual([ErrorCode.UpstreamUnavailable]);
    expect(ejected).toEqual([upstreams[0]!.address]);
    // Ejected for 5 s: the next 200 calls all go to the healthy two, and none fails.
    const next = await load(m, 200, 4);
    expect(next.failures).toBe(0);
    expect(next.whole.get('bad') ?? 0).toBe(0);
    expect((next.whole.get('a') ?? 0) + (next.whole.get('b') ?? 0)).toBe(200);
  });

  it('P2C peak-EWMA: an endpoint that resets mid-body gets a falling share, then is ejected', async () => {
    const upstreams = await threeUpstreams({ bodyFault: 'reset' });
    // A short decay, so that the shunned endpoint is tried again (and fails again) within the test.
    const { mesh: m, ejected } = buildMesh(upstreams, { balancer: p2cPeakEwma({ decayMs: 100 }) });
    // Each cut body prices it at twice its estimate or more: far below an even share at once.
    const first = await load(m, 150, 1);
    expect(first.cut.get('bad') ?? 0).toBeLessThan(150 * 0.1);
    expect(first.failures).toBe(first.cut.get('bad') ?? 0);
    // Tried again as its estimate decays, it fails again: the fifth failure in a row ejects it.
    let cut = first.cut.get('bad') ?? 0;
    for (let batch = 0; batch < 200 && ejected.length === 0; batch++) {
      cut += (await load(m, 25, 1)).cut.get('bad') ?? 0;
    }
    expect(ejected).toEqual([upstreams[0]!.address]);
    expect(cut).toBe(5);
    const next = await load(m, 200, 4);
    expect(next.failures).toBe(0);
    expect(next.whole.get('bad') ?? 0).toBe(0);
  });

  it('P2C peak-EWMA without health: a body cut short is a failed latency sample, so its share falls', async () => {
    const upstreams = await threeUpstreams({ bodyFault: 'reset' });
    // Its headers come as fast as the others': only the body's end says it is failing.
    const { mesh: m, ejected } = buildMesh(upstreams, { balancer: p2cPeakEwma(), health: false });
    await load(m, 60, 1);
    const later = await load(m, 300, 1);
    expect(ejected).toEqual([]);
    // An even share would be 100 of 300: each failure prices it at twice its estimate or more.
    expect(later.cut.get('bad') ?? 0).toBeLessThan(300 * 0.1);
    expect(later.failures).toBe(later.cut.get('bad') ?? 0);
  });

  it('round robin: an endpoint whose body stalls past the idle limit is ejected after five', async () => {
    const upstreams = await threeUpstreams({ bodyFault: 'stall' });
    const { mesh: m, ejected } = buildMesh(upstreams, { balancer: roundRobin(), idleTimeout: 300 });
    const first = await load(m, 30, 1);
    expect(first.cut.get('bad')).toBe(5);
    expect(first.failures).toBe(5);
    expect(ejected).toEqual([upstreams[0]!.address]);
    const next = await load(m, 60, 2);
    expect(next.failures).toBe(0);
    expect(next.whole.get('bad') ?? 0).toBe(0);
  });

  it('P2C peak-EWMA: an endpoint whose body stalls past the idle limit is ejected', async () => {
    const upstreams = await threeUpstreams({ bodyFault: 'stall' });
    const { mesh: m, ejected } = buildMesh(upstreams, {
      balancer: p2cPeakEwma({ decayMs: 100 }),
      idleTimeout: 300,
    });
    // Its headers come as fast as the others': only the stalled bodies count against it, each
    // one more failure in a row, until it is ejected.
    let cut = 0;
    for (let batch = 0; batch < 200 && ejected.length === 0; batch++) {
      cut += (await load(m, 25, 1)).cut.get('bad') ?? 0;
    }
    expect(ejected).toEqual([upstreams[0]!.address]);
    expect(cut).toBe(5);
    const next = await load(m, 100, 2);
    expect(next.failures).toBe(0);
    expect(next.whole.get('bad') ?? 0).toBe(0);
  });
});

/**
 * Two of three endpoints reset mid-body after 200 headers, with no health layer (it would eject
 * them first) and no retries: only the breaker judges, the default one or one with `isFailure`.
 */
async function loadWithBreaker(isFailure?: FailureClassifier) {
  const upstreams = await Promise.all([
    startProfiled('bad1', { bodyFault: 'reset' }),
    startProfiled('bad2', { bodyFault: 'reset' }),
    startProfiled('a'),
  ]);
  running.push(...upstreams);
  mesh = Mesh.builder()
    .service('api', (s) => {
      s.discovery(staticEndpoints(upstreams.map((u) => u.address)))
        .balancer(roundRobin())
        .stack((st) => st.remove('retry').remove('health'));
      return isFailure === undefined ? s : s.layer(circuitBreaker({ isFailure }));
    })
    .build();
  const circuit: string[] = [];
  mesh.on('circuit', (_service, state) => circuit.push(state));
  const { codes, cut } = await load(mesh, 60, 1);
  return { circuit, codes, cut };
}

describe('the circuit breaker counts a body cut short as a failed call', () => {
  it('opens when two of three endpoints reset mid-body, though every answer had 200 headers', async () => {
    // Two failures in three calls (67%) against the default 50% threshold over 20 calls.
    const { circuit, codes, cut } = await loadWithBreaker();
    expect(circuit[0]).toBe('open');
    expect(codes.has(ErrorCode.CircuitOpen)).toBe(true);
    expect((cut.get('bad1') ?? 0) + (cut.get('bad2') ?? 0)).toBeGreaterThanOrEqual(12);
  });
});

describe('a body the caller gives up on is not the endpoint failing', () => {
  it('caller aborts and early destroys mid-body never eject the endpoint they happen on', async () => {
    // Every upstream sends half its body and then waits: the caller decides when it is over.
    const upstreams = await Promise.all(
      ['a', 'b', 'c'].map((name) => startProfiled(name, { bodyFault: 'stall' })),
    );
    running.push(...upstreams);
    const { mesh: m, ejected } = buildMesh(upstreams, { balancer: roundRobin() });
    const codes: string[] = [];
    for (let i = 0; i < 30; i++) {
      const controller = new AbortController();
      const res = await m.request({ service: 'api', path: '/', signal: controller.signal });
      const text = res.body.text();
      setTimeout(() => controller.abort(), 20);
      await text.catch((err: unknown) => codes.push(isTrellisError(err) ? err.code : String(err)));
    }
    for (let i = 0; i < 30; i++) {
      const res = await m.request({ service: 'api', path: '/' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      // undici's body emits an AbortError when destroyed without a reason: listen for it.
      res.body.on('error', () => {});
      res.body.destroy();
    }
    expect(codes).toEqual(Array.from({ length: 30 }, () => ErrorCode.Aborted));
    expect(ejected).toEqual([]);
    expect(m.snapshot('api').map((e) => e.state)).toEqual(['active', 'active', 'active']);
  });
});

describe('a refused connection with a stream body blames the endpoint', () => {
  it('a POST with a Readable body to a refused port is UpstreamUnavailable, and ejects it', async () => {
    const [healthy] = await Promise.all([startProfiled('a')]);
    running.push(healthy!);
    const refused = `127.0.0.1:${await freePort()}`;
    mesh = Mesh.builder()
      .service('api', (s) =>
        s
          .discovery(staticEndpoints([refused, healthy!.address]))
          .balancer(roundRobin())
          .stack((st) => st.remove('retry').remove('breaker')),
      )
      .build();
    const ejected: string[] = [];
    mesh.on('endpointEjected', (_service, id) => ejected.push(id));
    const codes: string[] = [];
    for (let i = 0; i < 20; i++) {
      try {
        const res = await mesh.request({
          service: 'api',
          path: '/',
          method: 'POST',
          body: Readable.from([Buffer.from('payload')]),
        });
        await res.body.dump();
      } catch (err) {
        codes.push(isTrellisError(err) ? err.code : String(err));
      }
    }
    // Round robin sends every second call to it: the fifth refusal ejects it.
    expect(codes).toEqual(Array.from({ length: 5 }, () => ErrorCode.UpstreamUnavailable));
    expect(ejected).toEqual([refused]);
  });
});

describe('a circuit breaker with its own isFailure judges the end of the body too', () => {
  it('opens when the classifier counts the bodies cut short, which it is handed as the error', async () => {
    const asked: string[] = [];
    const { circuit, codes } = await loadWithBreaker((res, err) => {
      if (res !== undefined) return res.statusCode >= 500;
      if (isTrellisError(err)) asked.push(err.code);
      return isTrellisError(err) && err.code !== ErrorCode.Aborted;
    });
    expect(circuit[0]).toBe('open');
    expect(codes.has(ErrorCode.CircuitOpen)).toBe(true);
    expect(asked).toContain(ErrorCode.UpstreamUnavailable);
  });

  it('stays closed when the classifier does not count them', async () => {
    const { circuit, codes } = await loadWithBreaker((res) => res !== undefined && res.statusCode >= 500);
    expect(circuit).toEqual([]);
    expect(codes.has(ErrorCode.CircuitOpen)).toBe(false);
  });
});
