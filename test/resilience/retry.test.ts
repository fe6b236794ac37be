import { Readable } from 'node:stream';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { ErrorCode, isTrellisError, type TrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { deadlines } from '../../src/resilience/deadline-layer.js';
import { retries } from '../../src/resilience/retry-layer.js';
import { type CountingUpstream, startCounting } from '../support/resilience-upstreams.js';

let a: CountingUpstream;
let b: CountingUpstream;
let deadPort: number;
let mesh: Mesh;
let seq = 0;

beforeAll(async () => {
  let dead: CountingUpstream;
  [a, b, dead] = await startCounting('a', 'b', 'dead');
  await dead.kill();
  deadPort = dead.port;
  const noBudget = { percent: 0, minPerSecond: 0 };
  mesh = Mesh.builder()
    // These tests judge retries, deadlines and hedging alone: endpoint ejection and the circuit
    // breaker (tested in their own files) would change which endpoint answers or fail calls fast;
    // round robin, because the tests rely on alternating endpoints.
    .stack((st) => st.remove('breaker').remove('health'))
    .service('pair', (s) => s.discovery(staticEndpoints([a.address, b.address])).balancer(roundRobin()))
    .service('one', (s) => s.discovery(staticEndpoints([a.address])).balancer(roundRobin()))
    .service('half-dead', (s) =>
      s.discovery(staticEndpoints([`127.0.0.1:${deadPort}`, b.address])).balancer(roundRobin()),
    )
    .service('all-dead', (s) =>
      s
        .discovery(staticEndpoints([`127.0.0.1:${deadPort}`]))
        .balancer(roundRobin())
        .layer(retries({ budget: noBudget })),
    )
    .service('budgeted', (s) =>
      s
        .discovery(staticEndpoints([a.address, b.address]))
        .balancer(roundRobin())
        .layer(retries({ retries: 3, budget: { percent: 0.2, minPerSecond: 0 } })),
    )
    .service('hanging', (s) =>
      s
        .discovery(staticEndpoints([a.address]))
        .balancer(roundRobin())
        .layer(deadlines({ timeoutMs: 2500, attemptTimeoutMs: 200 })),
    )
    .build();
});

afterAll(async () => {
  await mesh.close();
  await Promise.all([a.kill(), b.kill()]);
});

beforeEach(async () => {
  await Promise.all([a.mode('ok'), b.mode('ok')]);
});

function id(): string {
  return `req-${process.pid}-${++seq}`;
}

async function executions(requestId: string): Promise<number> {
  const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
  return (sa.executed[requestId] ?? 0) + (sb.executed[requestId] ?? 0);
}

async function call(service: string, method: string, headers: Record<string, string> = {}, path = '/work') {
  const requestId = id();
  const res = await mesh.request({
    service,
    method,
    path,
    headers: { 'x-request-id': requestId, ...headers },
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, requestId, upstream: res.headers['x-upstream'] };
}

describe('retries', () => {
  it('retries an idempotent request that got a 503 on the other endpoint, and reports the retry', async () => {
    await a.mode('fail503');
    const retried: Array<[string, number, string]> = [];
    const onRetry = (service: string, attempt: number, failure: string) =>
      retried.push([service, attempt, failure]);
    mesh.on('retry', onRetry);
    for (let i = 0; i < 6; i++) {
      const { status, upstream } = await call('pair', 'GET');
      expect(status).toBe(200);
      expect(upstream).toBe('b');
    }
    mesh.off('retry', onRetry);
    expect(retried.length).toBeGreaterThanOrEqual(3);
    expect(retried[0]).toEqual(['pair', 2, 'status 503']);
  });

  it('retries through the dispatcher front-end too: the relayed 503 is thrown away, the retry reaches the caller', async () => {
    await a.mode('fail503');
    const retried: number[] = [];
    const onRetry = (_service: string, attempt: number) => retried.push(attempt);
    mesh.on('retry', onRetry);
    const dispatcher = mesh.dispatcher();
    for (let i = 0; i < 4; i++) {
      // mesh.fetch (undici's fetch) and undici.request: both handler generations.
      const res = await mesh.fetch('http://pair/work', { headers: { 'x-request-id': id() } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-upstream')).toBe('b');
      await res.text();
      const raw = await undiciRequest('http://pair/work', { dispatcher, headers: { 'x-request-id': id() } });
      expect(raw.statusCode).toBe(200);
      expect(raw.headers['x-upstream']).toBe('b');
      await raw.body.text();
    }
    mesh.off('retry', onRetry);
    expect(retried.length).toBeGreaterThanOrEqual(4);
  });

  it('does not retry a non-idempotent request that got a plain 503, so it runs once', async () => {
    await Promise.all([a.mode('fail503'), b.mode('fail503')]);
    const { status, requestId } = await call('pair', 'POST');
    expect(status).toBe(503);
    expect(await executions(requestId)).toBe(1);
  });

  it('retries a non-idempotent request the server answered "not processed", and it runs exactly once', async () => {
    await a.mode('unprocessed');
    for (let i = 0; i < 4; i++) {
      const { status, requestId } = await call('pair', 'POST');
      expect(status).toBe(200);
      expect(await executions(requestId)).toBe(1);
    }
  });

  it('retries a non-idempotent request whose connection was refused (it never reached a server)', async () => {
    for (let i = 0; i < 4; i++) {
      const { status, upstream, requestId } = await call('half-dead', 'POST');
      expect(status).toBe(200);
      expect(upstream).toBe('b');
      expect(await executions(requestId)).toBe(1);
    }
  });

  it('retries a POST that carries an Idempotency-Key', async () => {
    await a.mode('fail503');
    for (let i = 0; i < 4; i++) {
      const { status } = await call('pair', 'POST', { 'idempotency-key': id() });
      expect(status).toBe(200);
    }
  });

  it('replays a small streaming body and never replays one larger than the buffer limit', async () => {
    await a.mode('fail503');
    const small = await mesh.request({
      service: 'pair',
      method: 'PUT',
      path: '/work',
      body: Readable.from([Buffer.from('x'.repeat(1000))]),
    });
    await small.body.dump();
    expect(small.statusCode).toBe(200);
    await b.mode('fail503');
    const requestId = id();
    const big = await mesh.request({
      service: 'pair',
      method: 'PUT',
      path: '/work',
      headers: { 'x-request-id': requestId },
      body: Readable.from([Buffer.alloc(40_000), Buffer.alloc(40_000)]),
    });
    await big.body.dump();
    expect(big.statusCode).toBe(503);
    expect(await executions(requestId)).toBe(1);
  });

  it("honours the server's Retry-After before retrying", async () => {
    await a.mode('fail503');
    const requestId = id();
    const started = performance.now();
    const res = await mesh.request({
      service: 'one',
      path: '/work?retryAfter=1',
      headers: { 'x-request-id': requestId },
    });
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    expect(await executions(requestId)).toBe(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('returns at once when Retry-After asks for longer than it is willing to wait', async () => {
    await a.mode('fail503');
    const requestId = id();
    const res = await mesh.request({
      service: 'one',
      path: '/work?retryAfter=3600',
      headers: { 'x-request-id': requestId },
    });
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    expect(await executions(requestId)).toBe(1);
  });

  it('stops retrying at the deadline: hanging attempts time out and the request fails by its deadline', async () => {
    await a.mode('hang');
    const requestId = id();
    const started = performance.now();
    const err = await mesh
      .request({ service: 'hanging', path: '/work', headers: { 'x-request-id': requestId } })
      .catch((e) => e);
    expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(await executions(requestId)).toBeGreaterThanOrEqual(2);
  });

  it('returns the original failure, noted, when the budget is spent', async () => {
    let exhausted = 0;
    mesh.once('retryBudgetExhausted', () => exhausted++);
    const err = await mesh.request({ service: 'all-dead', path: '/work' }).catch((e) => e);
    expect(exhausted).toBe(1);
    expect(isTrellisError(err, ErrorCode.UpstreamUnavailable)).toBe(true);
    expect((err as TrellisError).details.retryBudgetExhausted).toBe(true);
    expect((err as TrellisError).message).toMatch(/retry budget/);
  });

  it('keeps upstream traffic within (1 + 20%) of the offered load at a total outage', async () => {
    await Promise.all([a.mode('fail503'), b.mode('fail503')]);
    const before = (await a.stats()).total + (await b.stats()).total;
    const offered = 200;
    for (let i = 0; i < offered / 10; i++) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const res = await mesh.request({ service: 'budgeted', path: '/work' });
          await res.body.dump();
        }),
      );
    }
    const reached = (await a.stats()).total + (await b.stats()).total - before;
    expect(reached).toBeGreaterThan(offered);
    expect(reached).toBeLessThanOrEqual(offered * 1.2 + 1);
  });
});
