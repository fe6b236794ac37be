import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import { ErrorCode, isTrellisError, TrellisError } from '../../src/core/errors.js';
import type { Service } from '../../src/core/layer.js';
import { testServiceHandle } from '../../src/core/test-service-handle.js';
import { activeBucketRotations } from '../../src/resilience/breaker/bucket-rotation.js';
import { circuitBreaker } from '../../src/resilience/breaker/circuit-breaker.js';

// The breaker layer counts into the newest bucket of opossum's rolling window itself, and moves
// to the new bucket on each rotation: calls made after the window has rotated must still count.

describe('the breaker layer and its rolling window', () => {
  it('counts calls made after the window rotated, so failures then still open the breaker', async () => {
    const handle = testServiceHandle({ name: 'w' });
    const next: Service = () => Promise.reject(new TrellisError(ErrorCode.UpstreamUnavailable, 'refused'));
    const layer = circuitBreaker({ volumeThreshold: 4, rollingCountTimeout: 100, rollingCountBuckets: 2 });
    const call = layer.wrap(next, handle);
    const circuit: string[] = [];
    handle.events.on('circuit', (_service, state) => circuit.push(state));
    // Several rotations (50 ms each): the bucket the layer started with has left the window.
    await sleep(180);
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      await call(new RequestContext({ service: 'w', path: '/' })).catch((err: unknown) =>
        codes.push(isTrellisError(err) ? err.code : String(err)),
      );
    }
    expect(circuit).toEqual(['open']);
    expect(codes.at(-1)).toBe(ErrorCode.CircuitOpen);
    await handle.close();
    expect(activeBucketRotations()).toBe(0);
  });
});
