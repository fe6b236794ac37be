import { getEventListeners, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelToken } from '../../src/core/cancel-token.js';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { deadlines } from '../../src/resilience/deadline-layer.js';
import { withInboundDeadline } from '../../src/resilience/inbound.js';
import { retries } from '../../src/resilience/retry-layer.js';
import { TIMEOUT_HEADER } from '../../src/resilience/timeout-header.js';
import { failureOf } from '../support/failure.js';
import { type CountingUpstream, startCounting } from '../support/resilience-upstreams.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

let counting: CountingUpstream;
let plain: Upstream;
let mesh: Mesh;

beforeAll(async () => {
  [[counting], plain] = await Promise.all([startCounting('d1'), startUpstream('p1')]);
  mesh = Mesh.builder()
    .service('up', (s) => s.discovery(staticEndpoints([counting.address])))
    .service('plain', (s) => s.discovery(staticEndpoints([plain.address])))
    .service('short', (s) =>
      s.discovery(staticEndpoints([counting.address])).layer(deadlines({ timeoutMs: 150 })),
    )
    .build();
});

afterAll(async () => {
  await mesh.close();
  await Promise.all([counting.kill(), plain.stop()]);
});

describe('deadlines', () => {
  it('fails a request that outlives its timeout with TRELLIS_DEADLINE_EXCEEDED, shortly after the deadline', async () => {
    const started = performance.now();
    const { err } = await failureOf(() =>
      mesh.request({ service: 'up', path: '/work?ms=3000', timeout: 100 }),
    );
    expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('fails a request whose deadline has already passed at once, without sending it', async () => {
    const before = (await counting.stats()).received;
    const { err } = await failureOf(() =>
      mesh.request({
        service: 'up',
        path: '/work',
        deadline: performance.now() - 1,
        headers: { 'x-request-id': 'late' },
      }),
    );
    expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
    expect((err as { details: { requestSent: boolean } }).details.requestSent).toBe(false);
    expect((await counting.stats()).received).toBe(before);
  });

  it('tells the upstream the remaining time in whole milliseconds', async () => {
    const res = await mesh.request({ service: 'up', path: '/work', timeout: 800 });
    await res.body.dump();
    const seen = Number(res.headers['x-seen-timeout']);
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(800);
  });

  it('sends no timeout header for a request without a deadline', async () => {
    const res = await mesh.request({ service: 'up', path: '/work' });
    await res.body.dump();
    expect(res.headers['x-seen-timeout']).toBeUndefined();
  });

  it('applies the service default timeout when the request sets none', async () => {
    const { err } = await failureOf(() => mesh.request({ service: 'short', path: '/work?ms=3000' }));
    expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
  });

  it('covers the response body: a body still streaming at the deadline is cut', async () => {
    const res = await mesh.request({ service: 'plain', path: '/stream?n=20&ms=50', timeout: 300 });
    expect(res.statusCode).toBe(200);
    const { err } = await failureOf(() => res.body.text());
    expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
  });

  it("cancels the request when the caller's AbortSignal fires: TRELLIS_ABORTED, the signal's reason as its cause", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { err } = await failureOf(() =>
      mesh.request({ service: 'up', path: '/work?ms=3000', timeout: 5000, signal: controller.signal }),
    );
    expect(isTrellisError(err, ErrorCode.Aborted)).toBe(true);
    expect(((err as Error).cause as Error).name).toBe('AbortError');
  });

  it("cancels the request when the caller's EventEmitter signal fires, with or without a deadline", async () => {
    // With no deadline the transport listens to the caller's emitter itself (through a function,
    // the one listener an EventEmitter takes); with one, to the deadline guard that forwards it.
    for (const timeout of [undefined, 5000]) {
      const emitter = new CancelToken();
      setTimeout(() => emitter.abort(new Error('caller gave up')), 50);
      const started = performance.now();
      const { err } = await failureOf(() =>
        mesh.request({ service: 'up', path: '/work?ms=3000', timeout, signal: emitter }),
      );
      expect(isTrellisError(err, ErrorCode.Aborted)).toBe(true);
      expect(((err as Error).cause as Error).message).toBe('caller gave up');
      expect(performance.now() - started).toBeLessThan(2000);
      expect(emitter.listenerCount('abort')).toBe(0);
    }
  });

  it("leaves no listener on a caller's long-lived signal once its requests are over", async () => {
    const controller = new AbortController();
    const emitter = new CancelToken();
    for (let i = 0; i < 20; i++) {
      for (const signal of [controller.signal, emitter]) {
        for (const timeout of [5000, undefined]) {
          const res = await mesh.request({ service: 'plain', path: '/', timeout, signal });
          await res.body.text();
        }
      }
    }
    // undici takes its own listener (requests without a deadline) off a turn after the body ends.
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(emitter.listenerCount('abort')).toBe(0);
  });
});

describe('inbound deadlines (server helper)', () => {
  async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown) {
    const server = http.createServer(withInboundDeadline(handler));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('gives outgoing calls the smaller of their own deadline and the inbound remaining time', async () => {
    const { server, url } = await serve(async (_req, res) => {
      const upstream = await mesh.request({ service: 'up', path: '/work', timeout: 10_000 });
      await upstream.body.dump();
      res.end(String(upstream.headers['x-seen-timeout']));
    });
    const res = await request(`${url}/`, { headers: { [TIMEOUT_HEADER]: '700' } });
    const seen = Number(await res.body.text());
    server.close();
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(700);
  });

  it('ignores garbage, negative and fractional inbound values instead of failing', async () => {
    const { server, url } = await serve(async (_req, res) => {
      const upstream = await mesh.request({ service: 'up', path: '/work' });
      await upstream.body.dump();
      res.end(String(upstream.headers['x-seen-timeout'] ?? 'none'));
    });
    const answers = [];
    for (const value of ['garbage', '-5', '1.5', '12abc', '99999999999999999999']) {
      const res = await request(`${url}/`, { headers: { [TIMEOUT_HEADER]: value } });
      answers.push(await res.body.text());
    }
    server.close();
    expect(answers).toEqual(['none', 'none', 'none', 'none', 'none']);
  });

  it('clamps a huge inbound value to one day', async () => {
    const { server, url } = await serve(async (_req, res) => {
      const upstream = await mesh.request({ service: 'up', path: '/work' });
      await upstream.body.dump();
      res.end(String(upstream.headers['x-seen-timeout']));
    });
    const res = await request(`${url}/`, { headers: { [TIMEOUT_HEADER]: '999999999999' } });
    const seen = Number(await res.body.text());
    server.close();
    expect(seen).toBeGreaterThan(86_300_000);
    expect(seen).toBeLessThanOrEqual(86_400_000);
  });

  it('fails outgoing calls at once when the inbound deadline is already spent', async () => {
    const { server, url } = await serve(async (_req, res) => {
      const { err } = await failureOf(() => mesh.request({ service: 'up', path: '/work' }));
      res.end((err as { code?: string }).code);
    });
    const res = await request(`${url}/`, { headers: { [TIMEOUT_HEADER]: '0' } });
    const code = await res.body.text();
    server.close();
    expect(code).toBe(ErrorCode.DeadlineExceeded);
  });

  it('cancels outgoing calls when the inbound request is aborted', async () => {
    let outcome: Promise<unknown> | undefined;
    const { server, url } = await serve((_req, _res) => {
      outcome = failureOf(() => mesh.request({ service: 'up', path: '/work?ms=5000' })).then(
        ({ err }) => err,
      );
    });
    const controller = new AbortController();
    const pending = request(`${url}/`, { signal: controller.signal }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await pending;
    const err = await outcome!;
    server.close();
    expect(isTrellisError(err, ErrorCode.Aborted)).toBe(true);
  });
  it("re-stamps the timeout header on a retry with the time left, never touching the caller's headers", async () => {
    const [failing] = await startCounting('d-retry');
    const retrying = Mesh.builder()
      .service('failing', (s) =>
        s.discovery(staticEndpoints([failing.address])).layer(retries({ retries: 1 })),
      )
      .build();
    try {
      await failing.mode('fail503');
      // Frozen: a write to the caller's object would throw here (ES modules are strict).
      const headers = Object.freeze({ 'x-request-id': 'restamp' });
      const res = await retrying.request({
        service: 'failing',
        path: '/work?retryAfter=1',
        timeout: 5000,
        headers,
      });
      await res.body.dump();
      expect(res.statusCode).toBe(503);
      expect((await failing.stats()).executed.restamp).toBe(2);
      // The retry waited the 1 s Retry-After, so the upstream heard of at most ~4 s left.
      const seen = Number(res.headers['x-seen-timeout']);
      expect(seen).toBeGreaterThan(0);
      expect(seen).toBeLessThanOrEqual(4000);
      expect(headers).toEqual({ 'x-request-id': 'restamp' });
    } finally {
      await retrying.close();
      await failing.kill();
    }
  });
});
