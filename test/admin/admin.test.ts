import { connect } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { ErrorCode } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { metrics } from '../../src/telemetry/metrics-layer.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';
import { openSse } from './sse.js';

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('admin endpoint against real upstream processes', () => {
  let a: Upstream;
  let b: Upstream;
  beforeAll(async () => {
    [a, b] = (await startUpstreams('admin-a', 'admin-b')) as [Upstream, Upstream];
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  function build(tap?: { buffer?: number; maxPerSecond?: number }) {
    const m = metrics({ registry: new Registry() });
    const mesh = Mesh.builder()
      .stack(m.install)
      .service('users', (s) => s.discovery(staticEndpoints([a.address, b.address])).balancer(roundRobin()))
      .service('orders', (s) => s.discovery(staticEndpoints([a.address])))
      .build();
    return { mesh, admin: mesh.admin({ port: 0, ...(tap && { tap }) }) };
  }

  async function call(mesh: Mesh, path: string, service = 'users'): Promise<void> {
    await (await mesh.request({ service, path })).body.dump();
  }

  it('refuses a non-loopback bind unless asked, and bad ports, with clear errors', async () => {
    const mesh = Mesh.builder()
      .service('users', (s) => s.discovery(staticEndpoints([a.address])))
      .build();
    try {
      await expect(mesh.admin({ host: '0.0.0.0', port: 0 })).rejects.toMatchObject({
        code: ErrorCode.InvalidConfig,
        message: expect.stringMatching(/shows request paths.*allowRemote: true/),
      });
      await expect(mesh.admin({ port: 70000 })).rejects.toThrow(/port must be an integer/);
      const first = await mesh.admin({ port: 0 });
      await expect(mesh.admin({ port: first.port })).rejects.toThrow(/could not listen.*Pick another port/);
      const remote = await mesh.admin({ host: '0.0.0.0', port: 0, allowRemote: true });
      expect((await get(`http://127.0.0.1:${remote.port}/live`)).status).toBe(200);
    } finally {
      await mesh.close();
    }
  });

  it('serves /live, /ready, /metrics, /services and the dashboard page', async () => {
    const { mesh, admin: starting } = build();
    const admin = await starting;
    try {
      expect(admin.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      for (let i = 0; i < 4; i++) await call(mesh, '/echo');
      await call(mesh, '/status/503');
      await call(mesh, '/echo', 'orders');

      expect(await get(`${admin.url}live`)).toMatchObject({ status: 200 });
      expect(JSON.parse((await get(`${admin.url}ready`)).body)).toEqual({ ready: true, waiting: [] });
      const scraped = await get(`${admin.url}metrics`);
      expect(scraped.type).toMatch(/^text\/plain/);
      expect(scraped.body).toContain(
        'trellis_client_requests_total{service="users",route="",outcome="success",status_class="2xx"}',
      );

      const view = JSON.parse((await get(`${admin.url}services`)).body);
      expect(view.metrics).toBe(true);
      const users = view.services.find((s: { name: string }) => s.name === 'users');
      expect(users.discovery).toMatchObject({ source: expect.stringContaining('static'), updates: 1 });
      expect(users.discovery.lastUpdate).toMatch(/^\d{4}-/);
      expect(users.breaker).toBe('closed');
      expect(users.inflight).toBe(0);
      expect(users.golden.requests).toBeGreaterThanOrEqual(5); // the retry layer may add attempts, not calls
      expect(users.golden.successRate).toBeLessThan(1);
      expect(users.endpoints.map((e: { id: string }) => e.id).sort()).toEqual([a.address, b.address].sort());
      for (const e of users.endpoints) {
        expect(e).toMatchObject({ state: 'active', inflight: 0, weight: expect.any(Number) });
        expect(e.requests).toBeGreaterThan(0);
      }
      expect(users.retries.sent).toBeGreaterThan(0); // the 503 was retried on the other endpoint

      const page = await get(admin.url);
      expect(page.type).toMatch(/^text\/html/);
      expect(page.body).toContain('<tbody id="services">');
      expect((await get(`${admin.url}nope`)).status).toBe(404);
      expect((await fetch(`${admin.url}services`, { method: 'POST' })).status).toBe(405);
    } finally {
      await mesh.close();
    }
    expect((await fetch(admin.url).catch((err: Error) => err)) instanceof Error).toBe(true); // closed with the mesh
  });

  it('taps finished calls with filters, and refuses a bad filter', async () => {
    const { mesh, admin: starting } = build();
    const admin = await starting;
    try {
      expect((await get(`${admin.url}tap?status=6xx`)).status).toBe(400);
      const all = await openSse(`${admin.url}tap`);
      const errors = await openSse(`${admin.url}tap?service=users&status=5xx`);
      const slow = await openSse(`${admin.url}tap?path=/slow&min_latency=150`);
      expect(all.status).toBe(200);
      await call(mesh, '/echo');
      await call(mesh, '/status/404');
      await call(mesh, '/slow?ms=200');
      await call(mesh, '/slow?ms=1');
      await call(mesh, '/echo', 'orders');
      const noRetry = await mesh.request({ service: 'users', path: '/status/500', method: 'POST' });
      await noRetry.body.dump();
      await all.until((e) => e.length >= 6);
      await errors.until((e) => e.length >= 1);
      await slow.until((e) => e.length >= 1);
      const first = JSON.parse(all.events[0]!.data);
      expect(first).toMatchObject({
        service: 'users',
        method: 'GET',
        path: '/echo',
        status: 200,
        attempts: 1,
        route: '',
        deadlineLeftMs: null,
      });
      expect([a.address, b.address]).toContain(first.endpoint);
      expect(first.latencyMs).toBeGreaterThanOrEqual(first.headersMs);
      expect(errors.events.map((e) => JSON.parse(e.data).path)).toEqual(['/status/500']);
      expect(slow.events.map((e) => JSON.parse(e.data).path)).toEqual(['/slow?ms=200']);
      for (const s of [all, errors, slow]) s.close();
    } finally {
      await mesh.close();
    }
  });

  it('samples a busy tap: every call is either sent or counted as sampled', async () => {
    const { mesh, admin: starting } = build({ maxPerSecond: 5 });
    const admin = await starting;
    try {
      const tap = await openSse(`${admin.url}tap`);
      await Promise.all(Array.from({ length: 50 }, () => call(mesh, '/echo')));
      await tap.until(
        () => admin.handler.tap.sampled + tap.events.filter((e) => e.event === 'message').length === 50,
      );
      expect(admin.handler.tap.sampled).toBeGreaterThan(0);
      await call(mesh, '/echo'); // a later flush reports what was skipped
      tap.close();
    } finally {
      await mesh.close();
    }
  });

  it('cuts a tap client that reads nothing once past its buffer, while every request completes', async () => {
    const { mesh, admin: starting } = build({ buffer: 8, maxPerSecond: 1_000_000 });
    const admin = await starting;
    try {
      // A raw client that asks for the tap and never reads a byte.
      const socket = connect(admin.port, '127.0.0.1');
      socket.write('GET /tap HTTP/1.1\r\nHost: admin\r\n\r\n');
      socket.pause();
      await expect.poll(() => admin.handler.tap.clients).toBe(1);
      const big = 'x'.repeat(16 * 1024); // large paths fill the socket buffers quickly
      let done = 0;
      for (let round = 0; round < 40 && admin.handler.tap.cut === 0; round++) {
        await Promise.all(
          Array.from({ length: 25 }, async () => {
            await call(mesh, `/echo?pad=${big}`);
            done++;
          }),
        );
      }
      expect(admin.handler.tap.cut).toBe(1);
      expect(admin.handler.tap.dropped).toBeGreaterThan(8);
      await expect.poll(() => admin.handler.tap.clients).toBe(0);
      expect(done % 25).toBe(0); // every request of every round finished
      socket.destroy();
    } finally {
      await mesh.close();
    }
  });

  it('shows an ejection in /services as it happens: the endpoint state and the change log', async () => {
    const m = metrics({ registry: new Registry() });
    const mesh = Mesh.builder()
      .stack(m.install)
      .service('users', (s) =>
        s.discovery(staticEndpoints([a.address, '127.0.0.1:1'])).balancer(roundRobin()),
      )
      .build();
    try {
      const admin = await mesh.admin({ port: 0 });
      for (let i = 0; i < 12; i++) await call(mesh, '/echo');
      const view = JSON.parse((await get(`${admin.url}services`)).body);
      const dead = view.services[0].endpoints.find((e: { id: string }) => e.id === '127.0.0.1:1');
      expect(dead).toMatchObject({ state: 'ejected' });
      expect(dead.failures).toBe(dead.requests);
      expect(view.changes[0]).toMatchObject({
        service: 'users',
        kind: 'ejected',
        detail: expect.stringContaining('127.0.0.1:1'),
      });
    } finally {
      await mesh.close();
    }
  });

  it('says what to add when the mesh has no metrics layer', async () => {
    const mesh = Mesh.builder()
      .service('users', (s) => s.discovery(staticEndpoints([a.address])))
      .build();
    try {
      const admin = await mesh.admin({ port: 0 });
      const scraped = await get(`${admin.url}metrics`);
      expect(scraped.status).toBe(404);
      expect(scraped.body).toMatch(/metrics\(\{ registry \}\)/);
      const view = JSON.parse((await get(`${admin.url}services`)).body);
      expect(view.metrics).toBe(false);
      expect(view.services[0].endpoints[0].id).toBe(a.address);
    } finally {
      await mesh.close();
    }
  });
});
