import { type Dispatcher, Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import type { EndpointView } from '../../src/core/endpoint.js';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { EndpointSender } from '../../src/transport/endpoint-sender.js';
import { ResponseHandler } from '../../src/transport/response-handler.js';
import { until } from '../support/until.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

let hanging: Upstream;
let pool: Pool;

beforeAll(async () => {
  hanging = await startUpstream('hang-queue');
  pool = new Pool(`http://${hanging.address}`, { connections: 1 });
});

afterAll(async () => {
  await pool?.destroy();
  await hanging?.stop();
});

/** One attempt through the sender, cancelled by its own signal; resolves with how it ended. */
function attempt(sender: EndpointSender, endpoint: EndpointView, signal: AbortSignal): Promise<string> {
  const ctx = new RequestContext({ service: 'hang', method: 'POST', path: '/hang', body: 'x', signal });
  ctx.endpoint = endpoint;
  return new Promise<Dispatcher.ResponseData>((resolve, reject) => {
    sender.send({ method: ctx.method, path: ctx.path, body: 'x' }, new ResponseHandler(ctx, resolve, reject));
  }).then(
    () => 'answered',
    (err: unknown) => (isTrellisError(err, ErrorCode.Aborted) ? 'aborted' : String(err)),
  );
}

// While every connection of an endpoint is busy, its attempts wait in the mesh's own queue, and a
// cancelled one leaves it at once. In undici's pool queue a dead request stays (and holds its
// memory) until a connection takes it, only to be dropped then.
describe('attempts waiting for a connection (EndpointSender, a real pool to a hanging upstream)', () => {
  it('leave the queue the moment they are cancelled, while the connection stays busy', async () => {
    const endpoint = { pool } as unknown as EndpointView;
    const sender = new EndpointSender(endpoint);
    const holder = new AbortController();
    const holding = attempt(sender, endpoint, holder.signal);
    await until(() => pool.stats.running === 1, 'the first attempt to take the connection');
    const waiters = Array.from({ length: 49 }, () => new AbortController());
    const waiting = waiters.map((controller) => attempt(sender, endpoint, controller.signal));
    expect(sender.waiting).toBe(49);
    for (const controller of waiters.slice(0, 40)) controller.abort();
    expect(sender.waiting).toBe(9);
    expect((await Promise.all(waiting.slice(0, 40))).every((how) => how === 'aborted')).toBe(true);
    // The one connection is still taken, and undici holds nothing of the cancelled ones.
    expect(pool.stats.running).toBe(1);
    expect(pool.stats.pending).toBe(0);
    for (const controller of waiters.slice(40)) controller.abort();
    holder.abort();
    expect(await holding).toBe('aborted');
    expect(sender.waiting).toBe(0);
    await Promise.all(waiting);
  });
});

describe('a mesh that closes while attempts wait for a connection', () => {
  it('sends them before its pools close, and each one is answered', async () => {
    const slow = await startUpstream('slow-queue');
    const mesh = Mesh.builder()
      .service('slow', (s) => s.discovery(staticEndpoints([slow.address])).transport({ connections: 1 }))
      .build();
    try {
      const calls = Array.from({ length: 5 }, async () => {
        const response = await mesh.request({ service: 'slow', path: '/slow?ms=100' });
        return response.body.text();
      });
      // Let the first take the connection and the rest queue behind it, then close.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const closed = mesh.close();
      expect(await Promise.all(calls)).toEqual(Array(5).fill('slow slow-queue'));
      await closed;
    } finally {
      await mesh.close();
      await slow.stop();
    }
  });
});
