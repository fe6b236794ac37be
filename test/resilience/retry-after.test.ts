import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { DEFAULT_MAX_RETRY_AFTER_MS } from '../../src/resilience/retry-layer.js';
import { type CountingUpstream, startCounting } from '../support/resilience-upstreams.js';

let upstream: CountingUpstream;
let mesh: Mesh;

beforeAll(async () => {
  [upstream] = await startCounting('busy-503');
  await upstream.mode('fail503');
  mesh = Mesh.builder()
    .service('busy', (s) => s.discovery(staticEndpoints([upstream.address])))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await upstream?.kill();
});

async function executed(id: string): Promise<number> {
  return (await upstream.stats()).executed[id] ?? 0;
}

describe('Retry-After', () => {
  for (const timeout of [undefined, 5000]) {
    it(`a caller abort during the wait rejects with TRELLIS_ABORTED (timeout ${timeout ?? 'none'})`, async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const started = performance.now();
      const err = await mesh
        .request({ service: 'busy', path: '/work?retryAfter=1', timeout, signal: controller.signal })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isTrellisError(err, ErrorCode.Aborted)).toBe(true);
      expect(((err as Error).cause as Error).name).toBe('AbortError');
      expect(performance.now() - started).toBeLessThan(900);
    });
  }

  it(`is not waited for beyond ${DEFAULT_MAX_RETRY_AFTER_MS} ms: Retry-After: 9 returns the 503 at once`, async () => {
    const started = performance.now();
    const res = await mesh.request({
      service: 'busy',
      path: '/work?retryAfter=9',
      headers: { 'x-request-id': 'ra9' },
    });
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('9');
    expect(performance.now() - started).toBeLessThan(1500);
    expect(await executed('ra9')).toBe(1);
  });

  it('is not waited for when the wait would outlast the deadline', async () => {
    const started = performance.now();
    const res = await mesh.request({
      service: 'busy',
      path: '/work?retryAfter=1',
      timeout: 800,
      headers: { 'x-request-id': 'ra-deadline' },
    });
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    expect(performance.now() - started).toBeLessThan(700);
    expect(await executed('ra-deadline')).toBe(1);
  });

  it('is waited for when short enough, then the request is retried', async () => {
    const started = performance.now();
    const res = await mesh.request({
      service: 'busy',
      path: '/work?retryAfter=1',
      headers: { 'x-request-id': 'ra1' },
    });
    await res.body.dump();
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(await executed('ra1')).toBeGreaterThanOrEqual(2);
  }, 10_000);
});
