import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { metrics } from '../../src/telemetry/metrics-layer.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const series = (await registry.getMetricsAsJSON()).flatMap((m) =>
    m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })),
  );
  const match = series.find(
    (v) =>
      v.name === name && Object.entries(labels).every(([key, wanted]) => String(v.labels[key]) === wanted),
  );
  return match?.value ?? 0;
}

describe('Prometheus metrics layer against a real upstream', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream('metrics');
  });
  afterAll(() => upstream.stop());

  it('counts requests, failures by code, latency and calls in flight per service', async () => {
    const registry = new Registry();
    const mesh = Mesh.builder()
      .stack((st) => st.prepend(metrics({ registry })))
      .service('svc', (s) => s.discovery(staticEndpoints([upstream.address])))
      .service('gone', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])))
      .build();
    for (const path of ['/echo', '/echo', '/status/503']) {
      const response = await mesh.request({ service: 'svc', path });
      await response.body.dump();
    }
    await expect(mesh.request({ service: 'gone', path: '/' })).rejects.toMatchObject({
      code: ErrorCode.UpstreamUnavailable,
    });
    const slow = mesh.request({ service: 'svc', path: '/slow?ms=1500' });
    expect(await value(registry, 'trellis_client_requests_in_flight', { service: 'svc' })).toBe(1);
    await (await slow).body.dump();

    expect(await value(registry, 'trellis_client_requests_total', { service: 'svc' })).toBe(4);
    expect(await value(registry, 'trellis_client_requests_total', { service: 'gone' })).toBe(1);
    expect(await value(registry, 'trellis_client_requests_in_flight', { service: 'svc' })).toBe(0);
    expect(await value(registry, 'trellis_client_failures_total', { service: 'svc', code: 'HTTP_503' })).toBe(
      1,
    );
    expect(
      await value(registry, 'trellis_client_failures_total', {
        service: 'gone',
        code: ErrorCode.UpstreamUnavailable,
      }),
    ).toBe(1);
    expect(await value(registry, 'trellis_client_request_duration_seconds_count', { service: 'svc' })).toBe(
      4,
    );
    const slowBucket = await value(registry, 'trellis_client_request_duration_seconds_bucket', {
      service: 'svc',
      le: '1',
    });
    expect(slowBucket).toBe(3); // the 1.5 s call is above the 1 s bucket
    await mesh.close();
    expect(await value(registry, 'trellis_client_requests_total', { service: 'svc' })).toBe(4);
  });

  it('refuses a second registration of the same names with a clear error', () => {
    const registry = new Registry();
    metrics({ registry });
    expect(() => metrics({ registry })).toThrow(/already been registered.*different `prefix`/);
    expect(() => metrics({ registry, prefix: 'other_' })).not.toThrow();
  });
});
