import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { ErrorCode } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { metrics } from '../../src/telemetry/metrics-layer.js';
import { manualResolver } from '../support/manual-resolver.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';
import { matching, scrape, total } from './scrape.js';

const P = 'trellis_client_';

describe('Prometheus metrics against real upstream processes', () => {
  let a: Upstream;
  let b: Upstream;
  beforeAll(async () => {
    [a, b] = (await startUpstreams('metrics-a', 'metrics-b')) as [Upstream, Upstream];
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  it('counts calls per service and route by outcome and status class, with exact latency buckets', async () => {
    const registry = new Registry();
    const m = metrics({ registry });
    const mesh = Mesh.builder()
      .stack(m.install)
      .stack((st) => st.remove('retry'))
      .service('svc', (s) => s.discovery(staticEndpoints([a.address, b.address])).balancer(roundRobin()))
      .service('gone', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])))
      .build();
    try {
      const calls: Array<[string, string | undefined]> = [
        ['/echo', 'GET /echo'],
        ['/echo', 'GET /echo'],
        ['/echo', 'GET /echo'],
        ['/status/404', 'GET /status/:code'],
        ['/status/503', 'GET /status/:code'],
        ['/echo', undefined],
      ];
      for (const [path, route] of calls) {
        const response = await mesh.request({ service: 'svc', path, ...(route && { route }) });
        await response.body.dump();
      }
      await expect(mesh.request({ service: 'gone', path: '/' })).rejects.toMatchObject({
        code: ErrorCode.UpstreamUnavailable,
      });
      // Headers at once, body over ~600 ms: the two histograms must disagree about it.
      const stream = await mesh.request({ service: 'svc', path: '/stream?n=4&ms=200', route: 'GET /stream' });
      const slow = mesh.request({ service: 'svc', path: '/slow?ms=1200', route: 'GET /slow' });
      let s = await scrape(registry);
      expect(total(s, `${P}requests_in_flight`, { service: 'svc' })).toBe(2); // the stream's body and the slow call
      await stream.body.text();
      await (await slow).body.dump();
      s = await scrape(registry);

      const requests = (labels: Record<string, string>) =>
        total(s, `${P}requests_total`, { service: 'svc', ...labels });
      expect(requests({ route: 'GET /echo', outcome: 'success', status_class: '2xx' })).toBe(3);
      expect(requests({ route: 'GET /status/:code', outcome: 'success', status_class: '4xx' })).toBe(1);
      expect(requests({ route: 'GET /status/:code', outcome: 'failure', status_class: '5xx' })).toBe(1);
      expect(requests({ route: '', outcome: 'success', status_class: '2xx' })).toBe(1);
      expect(requests({})).toBe(8);
      expect(
        total(s, `${P}requests_total`, { service: 'gone', outcome: 'failure', status_class: 'none' }),
      ).toBe(1);
      expect(total(s, `${P}errors_total`, { service: 'gone', code: ErrorCode.UpstreamUnavailable })).toBe(1);
      expect(total(s, `${P}requests_in_flight`, { service: 'svc' })).toBe(0);

      const bucket = (name: string, route: string, le: string) =>
        total(s, `${P}${name}_bucket`, { service: 'svc', route, le });
      expect(bucket('request_duration_seconds', 'GET /slow', '1')).toBe(0);
      expect(bucket('request_duration_seconds', 'GET /slow', '2.5')).toBe(1);
      expect(bucket('request_duration_seconds', 'GET /stream', '0.5')).toBe(1); // headers came at once
      expect(bucket('response_duration_seconds', 'GET /stream', '0.5')).toBe(0); // the body took 600 ms
      expect(bucket('response_duration_seconds', 'GET /stream', '+Inf')).toBe(1);
      expect(total(s, `${P}request_duration_seconds_count`, { service: 'svc' })).toBe(8);
      expect(total(s, `${P}response_duration_seconds_count`, { service: 'svc' })).toBe(8);
      const sum = total(s, `${P}response_duration_seconds_sum`, { service: 'svc', route: 'GET /slow' });
      expect(sum).toBeGreaterThanOrEqual(1.2);

      // Per endpoint: round robin shares the eight attempts; the 503 is one endpoint's failure.
      const perEndpoint = matching(s, `${P}endpoint_requests_total`, { service: 'svc' });
      expect(perEndpoint.map((x) => x.labels.endpoint).sort()).toEqual([a.address, b.address].sort());
      expect(perEndpoint.map((x) => x.value)).toEqual([4, 4]);
      expect(total(s, `${P}endpoint_failures_total`, { service: 'svc' })).toBe(1);
      expect(total(s, `${P}endpoint_state`, { service: 'svc', state: 'active' })).toBe(2);
      expect(total(s, `${P}endpoints`, { service: 'svc', state: 'active' })).toBe(2);
    } finally {
      await mesh.close();
    }
    // Counts outlive the mesh; its endpoints' series do not.
    const after = await scrape(registry);
    expect(total(after, `${P}requests_total`, { service: 'svc' })).toBe(8);
    expect(matching(after, `${P}endpoint_requests_total`)).toEqual([]);
  });

  it('drops the series of an endpoint discovery removed and counts the updates', async () => {
    const registry = new Registry();
    const m = metrics({ registry });
    const resolver = manualResolver([a.address, b.address]);
    const mesh = Mesh.builder()
      .stack(m.install)
      .service('svc', (s) => s.discovery(resolver).balancer(roundRobin()))
      .build();
    try {
      for (let i = 0; i < 4; i++) await (await mesh.request({ service: 'svc', path: '/echo' })).body.dump();
      let s = await scrape(registry);
      expect(matching(s, `${P}endpoint_requests_total`).map((x) => x.value)).toEqual([2, 2]);
      expect(total(s, `${P}discovery_updates_total`, { service: 'svc' })).toBe(1);
      const firstUpdate = total(s, `${P}discovery_last_update_timestamp_seconds`, { service: 'svc' });
      expect(firstUpdate).toBeGreaterThan(Date.now() / 1000 - 60);

      resolver.publish([a.address]);
      await expect.poll(async () => total(await scrape(registry), `${P}discovery_updates_total`)).toBe(2);
      s = await scrape(registry);
      for (const name of ['endpoint_requests_total', 'endpoint_state', 'endpoint_requests_in_flight']) {
        expect(matching(s, `${P}${name}`, { endpoint: b.address })).toEqual([]);
        expect(matching(s, `${P}${name}`, { endpoint: a.address }).length).toBeGreaterThan(0);
      }
      resolver.fail(new Error('registry unreachable'));
      await expect.poll(async () => total(await scrape(registry), `${P}discovery_errors_total`)).toBe(1);
    } finally {
      await mesh.close();
    }
  });

  it('counts retries, ejections, endpoint states and the breaker from what the mesh reports', async () => {
    const registry = new Registry();
    const m = metrics({ registry });
    const mesh = Mesh.builder()
      .stack(m.install)
      .service('svc', (s) => s.discovery(staticEndpoints([a.address, '127.0.0.1:1'])).balancer(roundRobin()))
      .build();
    let retries = 0;
    let ejections = 0;
    mesh.on('retry', () => retries++);
    mesh.on('endpointEjected', () => ejections++);
    try {
      // Every call to the dead endpoint is refused and retried on the live one.
      for (let i = 0; i < 20; i++) await (await mesh.request({ service: 'svc', path: '/echo' })).body.dump();
      const s = await scrape(registry);
      expect(retries).toBeGreaterThan(0);
      expect(ejections).toBe(1);
      expect(total(s, `${P}retries_total`, { service: 'svc' })).toBe(retries);
      expect(
        total(s, `${P}endpoint_ejections_total`, { service: 'svc', reason: 'consecutive-failures' }),
      ).toBe(1);
      expect(total(s, `${P}endpoint_state`, { endpoint: '127.0.0.1:1', state: 'ejected' })).toBe(1);
      expect(total(s, `${P}endpoints`, { service: 'svc', state: 'ejected' })).toBe(1);
      expect(total(s, `${P}endpoints`, { service: 'svc', state: 'active' })).toBe(1);
      const dead = total(s, `${P}endpoint_requests_total`, { endpoint: '127.0.0.1:1' });
      expect(dead).toBe(retries);
      expect(total(s, `${P}endpoint_failures_total`, { endpoint: '127.0.0.1:1' })).toBe(dead);
      expect(total(s, `${P}endpoint_requests_total`, { endpoint: a.address })).toBe(20);
      expect(total(s, `${P}requests_total`, { service: 'svc', outcome: 'success' })).toBe(20);
      expect(total(s, `${P}circuit_state`, { service: 'svc', state: 'closed' })).toBe(1);
      expect(total(s, `${P}hedges_total`, { service: 'svc' })).toBe(0);
    } finally {
      await mesh.close();
    }
  });

  it('renders the Prometheus text format through the registry, beside the user’s own metrics', async () => {
    const registry = new Registry();
    const m = metrics({ registry });
    const mesh = Mesh.builder()
      .stack(m.install)
      .service('svc', (s) => s.discovery(staticEndpoints([a.address])))
      .build();
    try {
      await (await mesh.request({ service: 'svc', path: '/echo', route: 'GET /echo' })).body.dump();
      const text = await registry.metrics();
      expect(text).toContain(`# TYPE ${P}request_duration_seconds histogram`);
      expect(text).toContain(
        `${P}requests_total{service="svc",route="GET /echo",outcome="success",status_class="2xx"} 1`,
      );
      expect(text).toContain(
        `${P}request_duration_seconds_bucket{service="svc",route="GET /echo",le="+Inf"} 1`,
      );
      const open = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
      open.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      metrics({ registry: open }); // OpenMetrics names counters without _total in TYPE lines
      expect(await open.metrics()).toContain(`# TYPE ${P}requests counter`);
    } finally {
      await mesh.close();
    }
  });

  it('refuses a second registration of the same names, and bad options, with clear errors', () => {
    const registry = new Registry();
    metrics({ registry });
    expect(() => metrics({ registry })).toThrow(/already been registered.*different `prefix`/);
    expect(() => metrics({ registry, prefix: 'other_' })).not.toThrow();
    expect(() => metrics({ registry: new Registry(), buckets: [1, 0.5] })).toThrow(/strictly ascending/);
    expect(() => metrics({ registry: new Registry(), maxRoutes: -1 })).toThrow(/maxRoutes/);
  });
});
