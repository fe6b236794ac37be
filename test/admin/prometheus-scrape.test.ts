import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AdminServer } from '../../src/admin/admin-server.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { metrics } from '../../src/telemetry/metrics-layer.js';
import { freePort } from '../support/ports.js';
import { stopProcess } from '../support/stop-process.js';
import { describeWithBinaries, PROMETHEUS } from '../support/system-binary.js';
import { trackedSpawn } from '../support/tracked-spawn.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

describeWithBinaries([PROMETHEUS], 'a real Prometheus scrapes the admin endpoint', () => {
  let upstream: Upstream;
  let mesh: Mesh;
  let admin: AdminServer;
  let prometheus: ChildProcess;
  let api: string;
  let dir: string;
  beforeAll(async () => {
    upstream = await startUpstream('scraped');
    mesh = Mesh.builder()
      .stack(metrics({ registry: new Registry() }).install)
      .service('users', (s) => s.discovery(staticEndpoints([upstream.address])))
      .build();
    admin = await mesh.admin({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'trellis-prometheus-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, scrape_timeout: 1s }\n` +
        `scrape_configs:\n  - job_name: trellis\n    static_configs: [{ targets: ['127.0.0.1:${admin.port}'] }]\n`,
    );
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v1`;
    prometheus = trackedSpawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
  }, 30_000);
  afterAll(async () => {
    await stopProcess(prometheus);
    await mesh?.close();
    await upstream?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<Series[]> {
    const res = await fetch(`${api}/query?query=${encodeURIComponent(expr)}`).catch(() => undefined);
    if (!res?.ok) return [];
    return ((await res.json()) as { data: { result: Series[] } }).data.result;
  }

  it('reads the counts of known traffic, per route and status class, and the histogram', async () => {
    for (let i = 0; i < 7; i++)
      await (await mesh.request({ service: 'users', path: '/echo', route: 'GET /echo' })).body.dump();
    for (let i = 0; i < 2; i++)
      await (
        await mesh.request({ service: 'users', path: '/status/404', route: 'GET /status/:code' })
      ).body.dump();
    const value = async (expr: string) => Number((await query(expr))[0]?.value[1] ?? Number.NaN);
    await expect
      .poll(
        () => value('trellis_client_requests_total{service="users",route="GET /echo",status_class="2xx"}'),
        {
          timeout: 30_000,
          interval: 500,
        },
      )
      .toBe(7);
    expect(await value('up{job="trellis"}')).toBe(1);
    expect(await value('trellis_client_requests_total{route="GET /status/:code",status_class="4xx"}')).toBe(
      2,
    );
    expect(await value('sum(trellis_client_request_duration_seconds_count{service="users"})')).toBe(9);
    const p99 = await value(
      'histogram_quantile(0.99, sum by (le) (trellis_client_request_duration_seconds_bucket))',
    );
    expect(p99).toBeGreaterThan(0);
    expect(await value(`trellis_client_endpoint_state{endpoint="${upstream.address}",state="active"}`)).toBe(
      1,
    );
  });
});
