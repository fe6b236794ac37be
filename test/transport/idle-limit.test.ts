import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { DEFAULT_TRANSPORT } from '../../src/transport/transport-options.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

let upstream: Upstream;
let mesh: Mesh;

beforeAll(async () => {
  upstream = await startUpstream('idle');
  // Default settings: no timeout anywhere.
  mesh = Mesh.builder()
    .service('up', (s) => s.discovery(staticEndpoints([upstream.address])))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await upstream?.stop();
});

async function failure(call: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = performance.now();
  try {
    await call;
  } catch (err) {
    return { err, ms: performance.now() - started };
  }
  throw new Error('expected the call to fail');
}

describe('the default per-attempt idle limit (no timeout set)', () => {
  const limit = DEFAULT_TRANSPORT.idleTimeout;

  it(`ends a call to an endpoint that never answers, or stalls after the headers, after ~${limit} ms`, async () => {
    // POST: a timed-out attempt of a request that is not idempotent is not retried.
    const hung = failure(mesh.request({ service: 'up', method: 'POST', path: '/hang', body: 'x' }));
    const stalled = mesh
      .request({ service: 'up', path: '/stream?n=2&ms=60000' })
      .then((res) => failure(res.body.text()));
    for (const { err, ms } of await Promise.all([hung, stalled])) {
      expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(limit - 50);
      expect(ms).toBeLessThan(limit + 3000);
    }
  }, 20_000);
});
