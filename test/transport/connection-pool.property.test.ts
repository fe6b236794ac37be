import fc from 'fast-check';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import { ConnectionPool } from '../../src/transport/connection-pool.js';
import { ResponseHandler } from '../../src/transport/response-handler.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream('pool-model');
});

afterAll(async () => {
  await upstream?.stop();
});

/** What one request does: the upstream answers it, slowly, with a 500, cuts it, or it is refused or cancelled. */
const REQUESTS = {
  ok: { path: '/', abortAfterMs: undefined },
  slow: { path: '/slow?ms=15', abortAfterMs: undefined },
  failed: { path: '/status/500', abortAfterMs: undefined },
  cut: { path: '/close-mid', abortAfterMs: undefined },
  invalid: { path: 'no-leading-slash', abortAfterMs: undefined },
  cancelled: { path: '/hang', abortAfterMs: 10 },
  cancelledEarly: { path: '/slow?ms=30', abortAfterMs: 0 },
} as const;
type Kind = keyof typeof REQUESTS;

/** Sends one request through the mesh's own handler; resolves with how it settled, never rejects. */
function send(pool: ConnectionPool, kind: Kind): Promise<string> {
  const { path, abortAfterMs } = REQUESTS[kind];
  const controller = new AbortController();
  if (abortAfterMs !== undefined) setTimeout(() => controller.abort(), abortAfterMs);
  const ctx = new RequestContext({ service: 'pool-model', method: 'GET', path, signal: controller.signal });
  return new Promise<Dispatcher.ResponseData>((resolve, reject) => {
    const handler = new ResponseHandler(ctx, resolve, reject);
    pool.dispatch({ method: 'GET', path }, handler as unknown as Dispatcher.DispatchHandler);
  })
    .then(async (response) => {
      await response.body.text();
      return `status ${response.statusCode}`;
    })
    .catch((err: Error) => `error ${err.name}`);
}

describe('ConnectionPool under any mix of requests (fast-check, a real upstream process)', () => {
  it('settles every request once, never opens more than the cap, and is left empty and usable', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.record({
            kind: fc.constantFrom(...(Object.keys(REQUESTS) as Kind[])),
            delayMs: fc.constantFrom(0, 0, 1, 5),
          }),
          { minLength: 1, maxLength: 16 },
        ),
        async (cap, plan) => {
          const pool = new ConnectionPool(`http://${upstream.address}`, { connections: cap });
          let widest = 0;
          try {
            const outcomes: Array<Promise<string>> = [];
            for (const { kind, delayMs } of plan) {
              if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
              outcomes.push(send(pool, kind));
              widest = Math.max(widest, pool.connections);
            }
            const settled = await Promise.all(outcomes);
            expect(settled).toHaveLength(plan.length);
            for (const [i, { kind }] of plan.entries()) {
              if (kind === 'ok' || kind === 'slow') expect(settled[i]).toBe('status 200');
              if (kind === 'failed') expect(settled[i]).toBe('status 500');
              if (kind === 'invalid' || kind === 'cancelled') expect(settled[i]).toMatch(/^error /);
            }
            expect(widest).toBeLessThanOrEqual(cap);
            // A request cancelled while it waited in the pool left its queue then.
            expect(pool.waiting).toBe(0);
            // Nothing is left counted on a connection: the cap's worth of requests goes out at once.
            const after = await Promise.all(Array.from({ length: cap }, () => send(pool, 'ok')));
            expect(after).toEqual(Array(cap).fill('status 200'));
            expect(pool.connections).toBeLessThanOrEqual(cap);
          } finally {
            await pool.destroy();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
