import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { hedging } from '../../src/resilience/hedge-layer.js';
import { retries } from '../../src/resilience/retry-layer.js';
import { type CountingUpstream, startCounting } from '../support/resilience-upstreams.js';
import { until } from '../support/until.js';

let a: CountingUpstream;
let b: CountingUpstream;
let mesh: Mesh;
let seq = 0;

beforeAll(async () => {
  [a, b] = await startCounting('ha', 'hb');
  mesh = Mesh.builder()
    // These tests judge retries, deadlines and hedging alone: endpoint ejection and the circuit
    // breaker (tested in their own files) would change which endpoint answers or fail calls fast;
    // round robin, because the tests rely on alternating endpoints.
    .stack((st) => st.remove('breaker').remove('health'))
    .service('hedged', (s) =>
      s
        .discovery(staticEndpoints([a.address, b.address]))
        .balancer(roundRobin())
        .layer(hedging({ minSamples: 20, quantile: 0.9, maxExtraLoad: 0.5 }))
        .layer(retries({ retries: 0 })),
    )
    .service('frugal', (s) =>
      s
        .discovery(staticEndpoints([a.address, b.address]))
        .balancer(roundRobin())
        .layer(hedging({ minSamples: 20, quantile: 0.5, maxExtraLoad: 0.05 }))
        .layer(retries({ retries: 0 })),
    )
    .build();
});

afterAll(async () => {
  await mesh.close();
  await Promise.all([a.kill(), b.kill()]);
});

async function get(service: string, path = '/work', method = 'GET', timeout?: number) {
  const requestId = `h-${++seq}`;
  const res = await mesh.request({ service, path, method, timeout, headers: { 'x-request-id': requestId } });
  await res.body.dump();
  return { status: res.statusCode, upstream: res.headers['x-upstream'], requestId };
}

async function total(): Promise<number> {
  const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
  return sa.total + sb.total;
}

describe('hedging', () => {
  it('answers from the other endpoint when the first attempt hangs, once it has seen enough latencies', async () => {
    for (let i = 0; i < 40; i++) await get('hedged');
    await a.mode('hang');
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const { status, upstream } = await get('hedged', '/work', 'GET', 5000);
      expect(status).toBe(200);
      expect(upstream).toBe('hb');
      expect(performance.now() - started).toBeLessThan(2000);
    }
    await a.mode('ok');
  });

  it('never sends a backup for a non-idempotent request', async () => {
    await a.mode('hang');
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      const started = await total();
      const result = await get('hedged', '/work', 'POST', 300).catch((err: unknown) => err);
      outcomes.push(result);
      expect((await total()) - started).toBe(1);
    }
    await a.mode('ok');
    expect(outcomes.some((o) => isTrellisError(o, ErrorCode.DeadlineExceeded))).toBe(true);
  });

  it('keeps backups within their budget', async () => {
    // A third of the calls take 40 ms and the rest 2 ms, so the median (the delay before a backup)
    // is a fast call's and every slow call wants a backup: the budget alone decides how many go.
    // (With every call at one latency, whether any passed the median was up to timer jitter.)
    const path = (i: number) => (i % 3 === 2 ? '/work?ms=40' : '/work?ms=2');
    for (let i = 0; i < 40; i++) await get('frugal', path(i));
    const before = await total();
    const offered = 200;
    for (let i = 0; i < offered / 10; i++) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => get('frugal', path(j))));
    }
    const reached = (await total()) - before;
    expect(reached).toBeGreaterThan(offered);
    // 5% of the traffic since the budget window opened (the warm-up included), plus rounding.
    expect(reached).toBeLessThanOrEqual(offered + 0.05 * (offered + 40) + 1);
  });

  it('cancels the first attempt and its backup when the caller of mesh.fetch() aborts', async () => {
    for (let i = 0; i < 40; i++) await get('hedged');
    await Promise.all([a.mode('hang'), b.mode('hang')]);
    const inflight = () => mesh.snapshot('hedged').reduce((sum, endpoint) => sum + endpoint.inflight, 0);
    try {
      const controller = new AbortController();
      const pending = mesh.fetch('http://hedged/work', { signal: controller.signal });
      // Both endpoints hang: the backup goes out after the p90 of the warm-up latencies.
      await until(() => inflight() === 2, 'the primary and its backup in flight', 2000);
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await until(() => inflight() === 0, 'both attempts cancelled', 1000);
    } finally {
      await Promise.all([a.mode('ok'), b.mode('ok')]);
    }
  });
});
