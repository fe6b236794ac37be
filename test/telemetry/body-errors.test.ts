import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTapLine } from '../../src/cli/admin-format.js';
import { ErrorCode } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import type { RequestCompletion } from '../../src/telemetry/completion-feed.js';
import { isMetricsLayer, metrics } from '../../src/telemetry/metrics-layer.js';
import { type ProfiledUpstream, startProfiled } from '../support/profiled-upstreams.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';
import { scrape, total } from './scrape.js';

const P = 'trellis_client_';

/** A stream's `close` follows its `error` by a tick: the count is in once the event loop turns. */
const afterClose = () => new Promise((resolve) => setImmediate(resolve));

describe('response body errors: calls that fail after their headers, against real upstreams', () => {
  let reset: ProfiledUpstream;
  let stall: ProfiledUpstream;
  let good: Upstream;
  beforeAll(async () => {
    [reset, stall, good] = await Promise.all([
      startProfiled('body-reset', { bodyFault: 'reset' }),
      startProfiled('body-stall', { bodyFault: 'stall' }),
      startUpstream('body-good'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([reset.stop(), stall.stop(), good.stop()]);
  });

  it('counts resets per service and endpoint, deadlines per service only, and never a caller’s own end', async () => {
    const registry = new Registry();
    const m = metrics({ registry });
    // No breaker or health: every call reaches its one endpoint, whatever the earlier ones did.
    const mesh = Mesh.builder()
      .stack(m.install)
      .stack((st) => st.remove('breaker').remove('health'))
      .service('cut', (s) => s.discovery(staticEndpoints([reset.address])))
      .service('stalled', (s) => s.discovery(staticEndpoints([stall.address])))
      .service('good', (s) => s.discovery(staticEndpoints([good.address])))
      .build();
    try {
      const admin = await mesh.admin({ port: 0 });
      // Two resets through mesh.request(), one through mesh.fetch() (the relayed body).
      for (let i = 0; i < 2; i++) {
        const response = await mesh.request({ service: 'cut', path: '/' });
        expect(response.statusCode).toBe(200);
        await expect(response.body.text()).rejects.toMatchObject({ code: ErrorCode.UpstreamUnavailable });
      }
      const fetched = await mesh.fetch('http://cut/');
      expect(fetched.status).toBe(200);
      await expect(fetched.text()).rejects.toThrow();
      // The deadline passes while the body stalls: the caller's failure, not the endpoint's.
      const slow = await mesh.request({ service: 'stalled', path: '/', timeout: 300 });
      await expect(slow.body.text()).rejects.toMatchObject({ code: ErrorCode.DeadlineExceeded });
      // Bodies read whole, a body the caller destroys and one it aborts are no body errors.
      await (await mesh.request({ service: 'good', path: '/echo' })).body.text();
      const destroyed = await mesh.request({ service: 'good', path: '/stream?n=5&ms=100' });
      // undici's body stream fails itself with its own AbortError when destroyed without one.
      destroyed.body.on('error', () => {}).destroy();
      const controller = new AbortController();
      const aborted = await mesh.request({
        service: 'good',
        path: '/stream?n=5&ms=100',
        signal: controller.signal,
      });
      controller.abort();
      await expect(aborted.body.text()).rejects.toMatchObject({ code: ErrorCode.Aborted });
      await afterClose();

      const s = await scrape(registry);
      const body = (labels: Record<string, string>) => total(s, `${P}response_body_errors_total`, labels);
      expect(body({ service: 'cut', code: ErrorCode.UpstreamUnavailable })).toBe(3);
      expect(body({ service: 'stalled', code: ErrorCode.DeadlineExceeded })).toBe(1);
      expect(body({ service: 'good' })).toBe(0);
      expect(body({})).toBe(4);
      const perEndpoint = (endpoint: string) =>
        total(s, `${P}endpoint_response_body_errors_total`, { endpoint });
      expect(perEndpoint(reset.address)).toBe(3);
      expect(perEndpoint(stall.address)).toBe(0);
      expect(perEndpoint(good.address)).toBe(0);
      // The headers were a success: requests_total says so, the body counter says the rest.
      expect(total(s, `${P}requests_total`, { service: 'cut', outcome: 'success' })).toBe(3);

      const view = (await (await fetch(`${admin.url}services`)).json()) as {
        services: Array<{ name: string; bodyErrors: number; endpoints: Array<{ bodyErrors: number }> }>;
      };
      const cut = view.services.find((x) => x.name === 'cut');
      expect(cut?.bodyErrors).toBe(3);
      expect(cut?.endpoints.map((e) => e.bodyErrors)).toEqual([3]);
      expect(view.services.find((x) => x.name === 'stalled')?.bodyErrors).toBe(1);
      expect(view.services.find((x) => x.name === 'good')?.bodyErrors).toBe(0);
    } finally {
      await mesh.close();
    }
  });

  it('the tap shows a body cut short after a 200 as the status and the error, and a whole body as the status only', async () => {
    const m = metrics({ registry: new Registry() });
    const mesh = Mesh.builder()
      .stack(m.install)
      .stack((st) => st.remove('breaker').remove('health').remove('retry'))
      .service('cut', (s) => s.discovery(staticEndpoints([reset.address])))
      .service('good', (s) => s.discovery(staticEndpoints([good.address])))
      .build();
    const seen: RequestCompletion[] = [];
    if (!isMetricsLayer(m)) throw new Error('metrics() gave no readout');
    const unsubscribe = m.completions.subscribe((call) => seen.push(call));
    try {
      const cut = await mesh.request({ service: 'cut', path: '/' });
      await expect(cut.body.text()).rejects.toMatchObject({ code: ErrorCode.UpstreamUnavailable });
      await (await mesh.request({ service: 'good', path: '/echo' })).body.text();
      await afterClose();
      expect(seen.map((c) => [c.service, c.status, c.error])).toEqual([
        ['cut', 200, ErrorCode.UpstreamUnavailable],
        ['good', 200, undefined],
      ]);
      expect(formatTapLine(seen[0]!)).toContain(`-> 200 ${ErrorCode.UpstreamUnavailable} `);
      expect(formatTapLine(seen[1]!)).toMatch(/-> 200 [\d.]+ms/);
    } finally {
      unsubscribe();
      await mesh.close();
    }
  });
});
