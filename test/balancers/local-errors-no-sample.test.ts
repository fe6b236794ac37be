import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { p2cPeakEwma } from '../../src/balancers/index.js';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { type ProfiledUpstream, startProfiled } from '../support/profiled-upstreams.js';

// The balancer's latency estimate learns from attempts the endpoint answered or failed, never
// from ones the caller gave up on: the `Local` failure flag, which health reads too. Before, a
// caller's abort was a failed sample that priced the endpoint at twice its estimate, so a few
// impatient callers could push traffic off a healthy endpoint.

let upstream: ProfiledUpstream;
let mesh: Mesh;

beforeAll(async () => {
  upstream = await startProfiled('slow', { delayMs: 80 });
  mesh = Mesh.builder()
    .service('api', (s) =>
      s
        .discovery(staticEndpoints([upstream.address]))
        .balancer(p2cPeakEwma({ decayMs: 60_000 }))
        .stack((st) => st.remove('retry').remove('breaker').remove('health')),
    )
    .build();
});

afterAll(async () => {
  await mesh.close();
  await upstream.stop();
});

describe('the load metric and local errors', () => {
  it("takes no sample from attempts the caller aborted, so aborts do not raise the endpoint's estimate", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await mesh.request({ service: 'api', path: '/' });
      await res.body.dump();
    }
    const before = mesh.snapshot('api')[0]!.latencyMs!;
    expect(before).toBeGreaterThan(40);
    for (let i = 0; i < 8; i++) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 5);
      const failure = await mesh.request({ service: 'api', path: '/', signal: controller.signal }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isTrellisError(failure, ErrorCode.Aborted)).toBe(true);
    }
    // Each abort as a failed sample at least doubled it (8 of them: over 250 times); with no
    // sample it stays where the answers put it.
    expect(mesh.snapshot('api')[0]!.latencyMs!).toBeLessThan(before * 1.5);
  });
});
