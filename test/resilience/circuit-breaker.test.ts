import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { activeBucketRotations } from '../../src/resilience/breaker/bucket-rotation.js';
import { circuitBreaker } from '../../src/resilience/breaker/circuit-breaker.js';
import { nextEvent } from '../support/next-event.js';
import { until } from '../support/until.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

async function call(mesh: Mesh, path: string): Promise<number | string> {
  try {
    const response = await mesh.request({ service: 'svc', path });
    await response.body.dump();
    return response.statusCode;
  } catch (err) {
    return isTrellisError(err) ? err.code : String(err);
  }
}

/** How many requests the upstream has served, read from its /echo answer (which counts itself). */
async function served(mesh: Mesh): Promise<number> {
  const response = await mesh.request({ service: 'svc', path: '/echo' });
  return ((await response.body.json()) as { served: number }).served;
}

function meshFor(upstream: Upstream, resetTimeout = 150): Mesh {
  return Mesh.builder()
    .service('svc', (s) =>
      s
        .discovery(staticEndpoints([upstream.address]))
        .layer(circuitBreaker({ volumeThreshold: 4, resetTimeout, rollingCountTimeout: 10_000 })),
    )
    .build();
}

describe('circuit breaker against a real upstream', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream('breaker');
  });
  afterAll(() => upstream.stop());

  it('opens after enough 503s and then fails fast without sending', async () => {
    const mesh = meshFor(upstream, 60_000);
    const states: string[] = [];
    mesh.on('circuit', (service, state) => states.push(`${service}:${state}`));
    for (let i = 0; i < 4; i++) expect(await call(mesh, '/status/503')).toBe(503);
    expect(states).toEqual(['svc:open']);
    const err = await mesh.request({ service: 'svc', path: '/echo' }).catch((e: unknown) => e);
    expect(isTrellisError(err, ErrorCode.CircuitOpen)).toBe(true);
    expect((err as { details: { requestSent: boolean } }).details.requestSent).toBe(false);
    expect(await call(mesh, '/status/200')).toBe(ErrorCode.CircuitOpen);
    await mesh.close();
  });

  it('lets one probe through when half-open and closes when it succeeds', async () => {
    const mesh = meshFor(upstream);
    for (let i = 0; i < 4; i++) await call(mesh, '/status/500');
    expect(await call(mesh, '/echo')).toBe(ErrorCode.CircuitOpen);
    expect((await nextEvent(mesh, 'circuit'))[1]).toBe('half-open'); // 'open' was emitted before this line
    const before = await served(mesh); // this /echo is the probe: it succeeds and closes the breaker
    expect(await served(mesh)).toBe(before + 1);
    expect(await call(mesh, '/status/200')).toBe(200);
    await mesh.close();
  });

  it('sends a single probe while half-open and reopens when the probe fails', async () => {
    const mesh = meshFor(upstream);
    const states: string[] = [];
    mesh.on('circuit', (_service, state) => states.push(state));
    for (let i = 0; i < 4; i++) await call(mesh, '/status/502');
    await until(() => states.length === 2, 'open, then half-open', 2000);
    const [probe, second] = await Promise.all([call(mesh, '/slow?ms=50'), call(mesh, '/echo')]);
    expect(probe).toBe(200);
    expect(second).toBe(ErrorCode.CircuitOpen);
    expect(states).toEqual(['open', 'half-open', 'closed']);
    // The 502s are still in the window, so one more failure reopens the breaker.
    expect(await call(mesh, '/status/503')).toBe(503);
    await until(() => states.length === 5, 'five circuit states', 2000);
    expect(await call(mesh, '/status/503')).toBe(503); // the failing probe
    expect(await call(mesh, '/echo')).toBe(ErrorCode.CircuitOpen);
    expect(states).toEqual(['open', 'half-open', 'closed', 'open', 'half-open', 'open']);
    await mesh.close();
  });

  it('does not count requests the caller aborted as failures', async () => {
    const mesh = meshFor(upstream, 60_000);
    for (let i = 0; i < 6; i++) {
      const aborted = AbortSignal.abort();
      expect(
        await mesh.request({ service: 'svc', path: '/echo', signal: aborted }).catch((e) => e.code),
      ).toBe(ErrorCode.Aborted);
    }
    expect(await call(mesh, '/echo')).toBe(200);
    await mesh.close();
  });

  it('opens when the upstream process is killed and connections are refused', async () => {
    const doomed = await startUpstream('doomed');
    const mesh = meshFor(doomed, 60_000);
    expect(await call(mesh, '/echo')).toBe(200);
    await doomed.stop();
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push(await call(mesh, '/echo'));
    // The success before the kill is in the window too: the third refusal makes 3 of 4 failures.
    const refused = ErrorCode.UpstreamUnavailable;
    expect(codes).toEqual([refused, refused, refused, ErrorCode.CircuitOpen, ErrorCode.CircuitOpen]);
    await mesh.close();
  });

  it('shuts every breaker down on mesh.close(), leaving no rotation timer behind', async () => {
    const before = activeBucketRotations();
    const mesh = Mesh.builder()
      .service('a', (s) => s.discovery(staticEndpoints([upstream.address])))
      .service('b', (s) => s.discovery(staticEndpoints([upstream.address])))
      .build();
    expect(activeBucketRotations()).toBe(before + 1); // both default breakers share one timer
    await mesh.close();
    expect(activeBucketRotations()).toBe(before);
  });

  it('rejects invalid options with every problem listed', () => {
    expect(
      circuitBreaker({ errorThresholdPercentage: 120, resetTimeout: -1 }).validate?.().join('; '),
    ).toMatch(/errorThresholdPercentage must be a number in \[0, 100\].*resetTimeout must be an integer/);
  });
});
