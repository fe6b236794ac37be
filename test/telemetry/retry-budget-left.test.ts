import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { retries } from '../../src/resilience/retry-layer.js';
import { metrics } from '../../src/telemetry/metrics-layer.js';
import { type ProfiledUpstream, startProfiled } from '../support/profiled-upstreams.js';
import { scrape, total } from './scrape.js';

const P = 'trellis_client_';

interface BudgetDoc {
  services: Array<{ name: string; retryBudget: { left: number; capacity: number } | null }>;
}

describe('the retry budget left, after known traffic to a real upstream that always answers 503', () => {
  let failing: ProfiledUpstream;
  beforeAll(async () => {
    failing = await startProfiled('always-503', { errorRate: 1 });
  });
  afterAll(async () => {
    await failing.stop();
  });

  it('shows what each call took from the budget in /services and the gauges, until it is spent', async () => {
    const registry = new Registry();
    // A floor of 6 retries (0.1/s over a minute, a window no test outlasts) plus half the calls;
    // no breaker or health, so every call reaches the endpoint and asks for its one retry.
    const mesh = Mesh.builder()
      .stack(metrics({ registry }).install)
      .stack((st) => st.remove('breaker').remove('health'))
      .service('api', (s) =>
        s
          .discovery(staticEndpoints([failing.address]))
          .layer(retries({ retries: 1, budget: { percent: 0.5, minPerSecond: 0.1, ttlMs: 60_000 } })),
      )
      .service('plain', (s) => s.discovery(staticEndpoints([failing.address])).layer(retries({ retries: 0 })))
      .build();
    try {
      const admin = await mesh.admin({ port: 0 });
      const budgetOf = async (service: string) => {
        const doc = (await (await fetch(`${admin.url}services`)).json()) as BudgetDoc;
        return doc.services.find((s) => s.name === service)?.retryBudget;
      };
      const call = async () => {
        const response = await mesh.request({ service: 'api', path: '/' });
        expect(response.statusCode).toBe(503);
        await response.body.dump();
      };
      expect(await budgetOf('api')).toEqual({ left: 6, capacity: 6 });

      // Four calls, each retried once: capacity 6 + 4 x 0.5 = 8, four of it spent.
      for (let i = 0; i < 4; i++) await call();
      expect(await budgetOf('api')).toEqual({ left: 4, capacity: 8 });
      let s = await scrape(registry);
      expect(total(s, `${P}retry_budget_left`, { service: 'api' })).toBe(4);
      expect(total(s, `${P}retry_budget_capacity`, { service: 'api' })).toBe(8);
      expect(total(s, `${P}retries_total`, { service: 'api' })).toBe(4);

      // Each further call adds half a retry and spends a whole one, until less than one is left.
      for (let i = 0; i < 12; i++) await call();
      s = await scrape(registry);
      const left = total(s, `${P}retry_budget_left`, { service: 'api' });
      expect(left).toBeLessThan(1);
      expect(total(s, `${P}retry_budget_exhausted_total`, { service: 'api' })).toBeGreaterThan(0);
      expect(total(s, `${P}retries_total`, { service: 'api' })).toBe(
        total(s, `${P}retry_budget_capacity`, { service: 'api' }) - left,
      );
      expect((await budgetOf('api'))?.left).toBe(left);

      // A service that never retries has no budget to show.
      expect(await budgetOf('plain')).toBeNull();
      expect(total(s, `${P}retry_budget_left`, { service: 'plain' })).toBe(0);
    } finally {
      await mesh.close();
    }
  });
});
