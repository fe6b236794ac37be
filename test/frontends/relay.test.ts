import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { type Layer, Mesh } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

// The dispatcher front-end relays each attempt's response straight to the caller's handler
// (src/transport/relay-body.ts). These tests put a layer between the caller and the transport that
// holds a response back or throws it away, as retries and hedging do, against a real upstream.

let upstream: Upstream;
let mesh: Mesh;
let dumped: Array<Promise<void>> = [];
/** What the closing-watch layer saw of each relayed body's end. */
let closes: string[] = [];

const EXPECTED = Array.from({ length: 20 }, (_, i) => `chunk-${i}\n`).join('');

/** Holds every response 100 ms before passing it on; with `?redo`, dumps the first and asks again. */
const secondOpinion: Layer = {
  name: 'second-opinion',
  wrap: (next) => async (ctx) => {
    const first = await next(ctx);
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!ctx.path.includes('redo')) return first;
    dumped.push(first.body.dump({ limit: 16 }));
    return next(ctx);
  },
};

/** Listens for the end of every body, twice over, and once more after the body is over. */
const closingWatch: Layer = {
  name: 'closing-watch',
  wrap: (next) => async (ctx) => {
    const response = await next(ctx);
    const body = response.body;
    body.once('close', () => {
      closes.push(`first, destroyed=${body.destroyed}`);
      body.once('close', () => closes.push('added after the end'));
    });
    body.once('close', () => closes.push('second'));
    return response;
  },
};

beforeAll(async () => {
  upstream = (await startUpstreams('relay-1'))[0] as Upstream;
  mesh = Mesh.builder()
    .service('users', (s) =>
      s
        .discovery(staticEndpoints([upstream.address]))
        .stack((st) => st.insertBefore('balance', secondOpinion).insertBefore('balance', closingWatch)),
    )
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await upstream?.stop();
});

describe('relayed responses on the dispatcher front-end', () => {
  it('delivers every chunk, in order, of a body that arrived while a layer held the response', async () => {
    const res = await mesh.fetch('http://users/stream?n=20&ms=0');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(EXPECTED);
  });

  it('lets a layer dump a relayed response past its limit and send again; the caller sees only the second', async () => {
    dumped = [];
    const res = await mesh.fetch('http://users/stream?n=20&ms=0&redo=1');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(EXPECTED);
    expect(dumped).toHaveLength(1);
    await expect(dumped[0]).resolves.toBeUndefined();
  });

  it('reports a caller abort while the response is held, and the mesh keeps serving', async () => {
    const controller = new AbortController();
    const pending = mesh.fetch('http://users/stream?n=20&ms=20', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 30);
    await expect(pending.then((res) => res.text())).rejects.toThrow();
    const res = await mesh.fetch('http://users/stream?n=20&ms=0');
    expect(await res.text()).toBe(EXPECTED);
  });

  it("calls a relayed body's close listeners once it is over, in order, and none added after", async () => {
    closes = [];
    const res = await mesh.fetch('http://users/stream?n=20&ms=0');
    expect(await res.text()).toBe(EXPECTED);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closes).toEqual(['first, destroyed=true', 'second']);
  });
});
