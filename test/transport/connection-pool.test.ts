import { type Dispatcher, errors } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import { ConnectionPool } from '../../src/transport/connection-pool.js';
import { ResponseHandler } from '../../src/transport/response-handler.js';
import { freePort } from '../support/ports.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

let upstream: Upstream;
const pools: ConnectionPool[] = [];

beforeAll(async () => {
  upstream = await startUpstream('pooled');
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.destroy()));
  await upstream?.stop();
});

/** A pool to the upstream that counts the connections it opens. */
function poolOf(
  connections: number,
  origin = `http://${upstream.address}`,
): ConnectionPool & { opened: number } {
  const pool = Object.assign(new ConnectionPool(origin, { connections, keepAliveTimeout: 30_000 }), {
    opened: 0,
  });
  pool.on('connect', () => pool.opened++);
  pools.push(pool);
  return pool;
}

/** One request through the mesh's own handler (the transport's hot path); resolves with the body. */
async function meshGet(pool: ConnectionPool, path: string): Promise<string> {
  const ctx = new RequestContext({ service: 'pooled', method: 'GET', path });
  const response = await new Promise<Dispatcher.ResponseData>((resolve, reject) => {
    const handler = new ResponseHandler(ctx, resolve, reject);
    pool.dispatch({ method: 'GET', path }, handler as unknown as Dispatcher.DispatchHandler);
  });
  return response.body.text();
}

/** `workers` closed loops of `each` requests, as a service under load sends them. */
async function closedLoops(workers: number, each: number, send: () => Promise<string>): Promise<string[]> {
  const bodies: string[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < each; i++) bodies.push(await send());
    }),
  );
  return bodies;
}

describe('ConnectionPool (undici Clients to a real upstream process)', () => {
  it('sends one request after another on one connection: the one the last answer freed', async () => {
    const pool = poolOf(64);
    for (let i = 0; i < 20; i++) expect(await meshGet(pool, '/')).toBe('ok pooled');
    expect(pool.opened).toBe(1);
    expect(pool.connections).toBe(1);
  });

  it('takes the connection freed last, of several idle ones', async () => {
    const pool = poolOf(64);
    const [early, late] = await Promise.all([meshGet(pool, '/port?ms=10'), meshGet(pool, '/port?ms=150')]);
    expect(early).not.toBe(late);
    expect(await meshGet(pool, '/port')).toBe(late);
    expect(await meshGet(pool, '/port')).toBe(late);
    expect(pool.opened).toBe(2);
  });

  it('under closed loops, opens no more connections than requests in flight, however high the cap', async () => {
    const pool = poolOf(64);
    const bodies = await closedLoops(8, 40, () => meshGet(pool, '/'));
    expect(bodies).toHaveLength(320);
    expect(bodies.every((body) => body === 'ok pooled')).toBe(true);
    expect(pool.opened).toBeLessThanOrEqual(8);
  });

  it("hands the connection back for handlers that are not the mesh's: request(), and undici 7's handler generation", async () => {
    const pool = poolOf(64);
    for (let i = 0; i < 5; i++) {
      const { body } = await pool.request({ method: 'GET', path: '/' });
      expect(await body.text()).toBe('ok pooled');
    }
    const modern = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      pool.dispatch(
        { method: 'GET', path: '/' },
        {
          onRequestStart() {},
          onResponseStart() {},
          onResponseData(_controller, chunk: Buffer) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            resolve(Buffer.concat(chunks).toString());
          },
          onResponseError(_controller, err: Error) {
            reject(err);
          },
        },
      );
    });
    expect(modern).toBe('ok pooled');
    expect((await (await pool.request({ method: 'GET', path: '/' })).body.text()) as string).toBe(
      'ok pooled',
    );
    expect(pool.opened).toBe(1);
  });

  it('counts a request undici refuses at once (invalid options) as over, so its connection stays usable', async () => {
    const pool = poolOf(1);
    await expect(pool.request({ method: 'GET', path: 'no-leading-slash' })).rejects.toBeInstanceOf(
      errors.InvalidArgumentError,
    );
    for (let i = 0; i < 3; i++) expect(await meshGet(pool, '/')).toBe('ok pooled');
    expect(pool.waiting).toBe(0);
    expect(() => pool.dispatch({ method: 'GET', path: '/' }, null as never)).toThrow(
      errors.InvalidArgumentError,
    );
  });

  it('holds requests beyond the cap in order, answers false while full, and emits drain when there is room', async () => {
    const pool = poolOf(2);
    let drains = 0;
    pool.on('drain', () => drains++);
    const order: number[] = [];
    const answers = Array.from({ length: 6 }, (_, i) => {
      const answered = meshGet(pool, '/slow?ms=60').then((body) => {
        order.push(i);
        return body;
      });
      return answered;
    });
    expect(pool.waiting).toBe(4);
    expect(pool.dispatch({ method: 'GET', path: '/' }, noopHandler())).toBe(false);
    expect(await Promise.all(answers)).toEqual(Array(6).fill('slow pooled'));
    expect(order.slice(0, 2).sort()).toEqual([0, 1]);
    expect(order.slice(2, 4).sort()).toEqual([2, 3]);
    expect(pool.opened).toBe(2);
    expect(pool.waiting).toBe(0);
    expect(drains).toBeGreaterThanOrEqual(1);
  });

  it('lets a request cancelled while it waits for room leave the queue at once, unsent', async () => {
    const pool = poolOf(1);
    const holder = meshGet(pool, '/slow?ms=80');
    const controller = new AbortController();
    const ctx = new RequestContext({
      service: 'pooled',
      method: 'GET',
      path: '/',
      signal: controller.signal,
    });
    const cancelled = new Promise<Dispatcher.ResponseData>((resolve, reject) => {
      const handler = new ResponseHandler(ctx, resolve, reject);
      pool.dispatch({ method: 'GET', path: '/' }, handler as unknown as Dispatcher.DispatchHandler);
    });
    expect(pool.waiting).toBe(1);
    controller.abort();
    expect(pool.waiting).toBe(0);
    await expect(cancelled).rejects.toMatchObject({ code: 'TRELLIS_ABORTED' });
    expect(await holder).toBe('slow pooled');
    expect(await meshGet(pool, '/')).toBe('ok pooled');
    expect(pool.opened).toBe(1);
  });

  it('re-dials after the server cut a connection mid-body, and never reuses the dead one', async () => {
    const pool = poolOf(4);
    await expect(meshGet(pool, '/close-mid')).rejects.toThrow();
    for (let i = 0; i < 3; i++) expect(await meshGet(pool, '/')).toBe('ok pooled');
    expect(pool.opened).toBe(2);
  });

  it('drops a connection that could not be made, and fails its request with the connection error', async () => {
    const port = await freePort(); // released: nothing listens there
    const pool = poolOf(4, `http://127.0.0.1:${port}`);
    const failures: Error[] = [];
    pool.on('connectionError', (_origin, targets, err) => {
      expect(targets[0]).toBe(pool);
      failures.push(err);
    });
    await expect(pool.request({ method: 'GET', path: '/' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(failures).toHaveLength(1);
    expect(pool.connections).toBe(0);
  });

  it('close() lets the requests in flight and waiting finish, then refuses new ones', async () => {
    const pool = poolOf(1);
    const answers = [meshGet(pool, '/slow?ms=50'), meshGet(pool, '/slow?ms=50')];
    expect(pool.waiting).toBe(1);
    const closed = pool.close();
    expect(pool.closed).toBe(true);
    await expect(pool.request({ method: 'GET', path: '/' })).rejects.toBeInstanceOf(errors.ClientClosedError);
    expect(await Promise.all(answers)).toEqual(['slow pooled', 'slow pooled']);
    await closed;
  });

  it('destroy() fails what waits and what is in flight, at once', async () => {
    const pool = poolOf(1);
    const inFlight = meshGet(pool, '/hang');
    const waiting = meshGet(pool, '/');
    const boom = new Error('shutting down');
    await pool.destroy(boom);
    expect(pool.destroyed).toBe(true);
    await expect(inFlight).rejects.toThrow();
    await expect(waiting).rejects.toThrow();
  });
});

function noopHandler(): Dispatcher.DispatchHandler {
  return { onConnect() {}, onHeaders: () => true, onData: () => true, onComplete() {}, onError() {} };
}
