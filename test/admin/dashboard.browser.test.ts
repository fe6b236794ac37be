import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AdminServer } from '../../src/admin/admin-server.js';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { metrics } from '../../src/telemetry/metrics-layer.js';
import { CHROMIUM, describeWithBinaries } from '../support/system-binary.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';
import { type BrowserPage, openPage } from './cdp.js';

describeWithBinaries([CHROMIUM], 'the dashboard page in a real headless Chromium', () => {
  let a: Upstream;
  let b: Upstream;
  let mesh: Mesh;
  let admin: AdminServer;
  let page: BrowserPage;
  beforeAll(async () => {
    [a, b] = (await startUpstreams('dash-a', 'dash-b')) as [Upstream, Upstream];
    const m = metrics({ registry: new Registry() });
    mesh = Mesh.builder()
      .stack(m.install)
      .service('users', (s) => s.discovery(staticEndpoints([a.address, b.address])).balancer(roundRobin()))
      .service('orders', (s) => s.discovery(staticEndpoints([a.address])))
      .build();
    admin = await mesh.admin({ port: 0 });
    page = await openPage('chromium', admin.url);
  }, 30_000);
  afterAll(async () => {
    await page?.close();
    await mesh?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const endpointState = (id: string) =>
    page.evaluate<string | null>(`document.querySelector('[data-endpoint="${id}"]')?.dataset.state ?? null`);

  it('loads and shows every service and endpoint', async () => {
    await page.waitFor('document.querySelectorAll("#services tr").length === 2');
    const services = await page.evaluate<string[]>(
      '[...document.querySelectorAll("#services tr")].map((r) => r.dataset.service)',
    );
    expect(services.sort()).toEqual(['orders', 'users']);
    expect(await endpointState(a.address)).toBe('active');
    expect(await endpointState(b.address)).toBe('active');
  });

  it('updates as traffic flows, and the tap shows the calls', async () => {
    await page.evaluate(
      `(() => { const f = document.getElementById('tap-form'); f.service.value = 'users'; f.requestSubmit(); })()`,
    );
    await page.waitFor(`document.getElementById('tap-state').textContent === 'tapping'`);
    await expect
      .poll(
        async () => {
          for (let i = 0; i < 5; i++)
            await (await mesh.request({ service: 'users', path: '/echo/dashboard' })).body.dump();
          return page.evaluate<number>('document.getElementById("tap-log").childNodes.length');
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    expect(await page.evaluate<string>('document.getElementById("tap-log").textContent')).toContain(
      '/echo/dashboard',
    );
    // The services table's req/s for users leaves 0.0 within a poll or two.
    const rps = await page.waitFor<string>(
      `(() => { const c = document.querySelector('[data-service="users"]').children[2].textContent; return c !== '0.0' && c; })()`,
    );
    expect(Number(rps)).toBeGreaterThan(0);
    const requests = await page.waitFor<string>(
      `(() => { const c = document.querySelector('[data-endpoint="${a.address}"]').children[7].textContent; return c !== '0' && c !== '-' && c; })()`,
    );
    expect(Number(requests)).toBeGreaterThan(0);
    // The retry budget (left/capacity) and the body errors count, by column heading.
    const columns = await page.evaluate<Record<string, string>>(
      `(() => { const heads = [...document.querySelectorAll("#services")[0].parentElement.querySelectorAll("th")].map((th) => th.textContent);
        const cells = [...document.querySelector('[data-service="users"]').children].map((td) => td.textContent);
        return Object.fromEntries(heads.map((h, i) => [h, cells[i]])); })()`,
    );
    expect(columns['retry budget']).toMatch(/^\d+\/\d+$/);
    expect(columns['body errors']).toBe('0');
  });

  it('shows an endpoint ejected when its process dies, and the change in the log', async () => {
    await b.stop();
    await expect
      .poll(
        async () => {
          await (await mesh.request({ service: 'users', path: '/echo' })).body.dump();
          return endpointState(b.address);
        },
        { timeout: 15_000 },
      )
      .toBe('ejected');
    expect(await page.evaluate<string>('document.getElementById("changes").textContent')).toMatch(
      /users ejected: 127\.0\.0\.1:\d+/,
    );
  });
});
