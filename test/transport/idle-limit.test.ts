import { describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { DEFAULT_TRANSPORT } from '../../src/transport/transport-options.js';
import { failureOf } from '../support/failure.js';
import { useUpstreamMesh } from '../support/upstream-mesh.js';

// Default settings: no timeout anywhere.
const up = useUpstreamMesh('idle');

describe('the default per-attempt idle limit (no timeout set)', () => {
  const limit = DEFAULT_TRANSPORT.idleTimeout;

  it(`ends a call to an endpoint that never answers, or stalls after the headers, after ~${limit} ms`, async () => {
    // POST: a timed-out attempt of a request that is not idempotent is not retried.
    const hung = failureOf(() =>
      up.mesh.request({ service: 'up', method: 'POST', path: '/hang', body: 'x' }),
    );
    const stalled = up.mesh
      .request({ service: 'up', path: '/stream?n=2&ms=60000' })
      .then((res) => failureOf(() => res.body.text()));
    for (const { err, ms } of await Promise.all([hung, stalled])) {
      expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(limit - 50);
      expect(ms).toBeLessThan(limit + 3000);
    }
  }, 20_000);
});
