import { type Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Mesh } from '../../src/index.js';
import { mesh, outsider, plain, users, useThreeRoutes } from './three-routes.js';

useThreeRoutes();

async function echoedUrl(
  url: string,
  query: Record<string, unknown>,
  dispatcher: Agent | ReturnType<Mesh['dispatcher']>,
) {
  const res = await request(url, { dispatcher, query });
  return ((await res.body.json()) as { url: string }).url;
}

describe('undici dispatch options on mesh routes', () => {
  it('serialises query exactly as undici does for the same call to a plain host', async () => {
    const queries: Record<string, unknown>[] = [
      { a: ['1', '2'], b: 'x y', c: '' },
      { n: 5, t: true, f: false, nul: null, undef: undefined, big: 10n },
      { 'ü/?': '/?&=#', plus: '+', star: '*()!' },
      {},
    ];
    for (const query of queries) {
      const viaMesh = await echoedUrl('http://users/echo', query, mesh.dispatcher());
      const viaUndici = await echoedUrl(`http://${outsider.address}/echo`, query, plain);
      expect(viaMesh).toBe(viaUndici);
    }
  });

  it('refuses query with a path that already has "?" or "#", as undici does, sending nothing', async () => {
    await expect(
      request(`http://${outsider.address}/echo?x=1`, { dispatcher: plain, query: { y: 2 } }),
    ).rejects.toThrow(/Query params cannot be passed/);
    const before = ((await (await request(`http://${users.address}/echo`)).body.json()) as { served: number })
      .served;
    await expect(
      request('http://users/echo?x=1', { dispatcher: mesh.dispatcher(), query: { y: 2 } }),
    ).rejects.toMatchObject({
      code: 'TRELLIS_INVALID_REQUEST',
    });
    const after = ((await (await request(`http://${users.address}/echo`)).body.json()) as { served: number })
      .served;
    expect(after).toBe(before + 1);
  });

  it("honours headersTimeout: a response slower than it fails with undici's headers timeout", async () => {
    const started = performance.now();
    const failure = await request('http://users/slow?ms=10000', {
      dispatcher: mesh.dispatcher(),
      headersTimeout: 300,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeDefined();
    expect(JSON.stringify(failure, Object.getOwnPropertyNames(failure))).toMatch(
      /HEADERS_TIMEOUT|headers timeout/i,
    );
    // Well before the upstream would have answered (the mesh may retry the GET a few times).
    expect(performance.now() - started).toBeLessThan(8000);
  }, 15_000);

  it('honours bodyTimeout: a body that stalls longer than it fails while streaming', async () => {
    const res = await request('http://users/stream?n=3&ms=6000', {
      dispatcher: mesh.dispatcher(),
      bodyTimeout: 300,
    });
    expect(res.statusCode).toBe(200);
    const started = performance.now();
    const failure = await res.body.text().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeDefined();
    expect(JSON.stringify(failure, Object.getOwnPropertyNames(failure))).toMatch(
      /BODY_TIMEOUT|body timeout/i,
    );
    expect(performance.now() - started).toBeLessThan(5000);
  }, 15_000);

  it('honours reset: the request goes with connection: close', async () => {
    const kept = await request('http://users/echo', { dispatcher: mesh.dispatcher() });
    expect(((await kept.body.json()) as { headers: Record<string, string> }).headers.connection).not.toBe(
      'close',
    );
    const reset = await request('http://users/echo', { dispatcher: mesh.dispatcher(), reset: true });
    expect(((await reset.body.json()) as { headers: Record<string, string> }).headers.connection).toBe(
      'close',
    );
  });
});
