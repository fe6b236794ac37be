import { Agent, type Dispatcher, Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { type H2Upstream, startH2Upstream } from '../support/h2-upstream.js';
import { type Recorder, startRecorder } from '../support/recorder.js';
import { type CountingUpstream, startCounting } from '../support/resilience-upstreams.js';
import { mesh, outsider, plain, users, useThreeRoutes } from './three-routes.js';

// Every undici DispatchOption given to mesh.dispatcher() is either carried to the endpoint's pool
// with the effect it has on undici's own Pool, or refused as undici 7's Pool refuses it; on a
// pass-through host it reaches the pass-through dispatcher untouched.

useThreeRoutes();

/** The two routes through the mesh dispatcher: a mesh service, and a host outside the mesh. */
const ROUTES = ['mesh route', 'pass-through host'] as const;

/** The origin of a route (known once the upstreams run). */
function baseOf(route: (typeof ROUTES)[number]): string {
  return route === 'mesh route' ? 'http://users' : `http://${outsider.address}`;
}

async function echoedUrl(url: string, query: Record<string, unknown>, dispatcher: Dispatcher) {
  const res = await request(url, { dispatcher, query });
  return ((await res.body.json()) as { url: string }).url;
}

/** The error an undici call failed with, as text (code, message and cause), or 'no error'. */
async function failureText(call: Promise<unknown>): Promise<string> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  return err === undefined ? 'no error' : JSON.stringify(err, Object.getOwnPropertyNames(err));
}

describe('undici dispatch options through mesh.dispatcher()', () => {
  it('query: serialised exactly as undici does, on a mesh route and a pass-through host', async () => {
    const queries: Record<string, unknown>[] = [
      { a: ['1', '2'], b: 'x y', c: '' },
      { n: 5, t: true, f: false, nul: null, undef: undefined, big: 10n },
      { 'ü/?': '/?&=#', plus: '+', star: '*()!' },
      {},
    ];
    for (const query of queries) {
      const viaUndici = await echoedUrl(`http://${outsider.address}/echo`, query, plain);
      for (const base of ROUTES.map(baseOf)) {
        expect(await echoedUrl(`${base}/echo`, query, mesh.dispatcher())).toBe(viaUndici);
      }
    }
  });

  it('query: refused with a path that already has "?" or "#", as undici does, sending nothing', async () => {
    await expect(
      request(`http://${outsider.address}/echo?x=1`, { dispatcher: mesh.dispatcher(), query: { y: 2 } }),
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

  it.each(ROUTES)(
    "headersTimeout (%s): a response slower than it fails with undici's headers timeout",
    async (route) => {
      const base = baseOf(route);
      const started = performance.now();
      const failure = await failureText(
        request(`${base}/slow?ms=10000`, { dispatcher: mesh.dispatcher(), headersTimeout: 300 }),
      );
      expect(failure).toMatch(/HEADERS_TIMEOUT|headers timeout/i);
      // Well before the upstream would have answered (the mesh may retry the GET a few times).
      expect(performance.now() - started).toBeLessThan(8000);
    },
    15_000,
  );

  it.each(ROUTES)(
    'bodyTimeout (%s): a body that stalls longer than it fails while streaming',
    async (route) => {
      const base = baseOf(route);
      const res = await request(`${base}/stream?n=3&ms=6000`, {
        dispatcher: mesh.dispatcher(),
        bodyTimeout: 300,
      });
      expect(res.statusCode).toBe(200);
      const started = performance.now();
      expect(await failureText(res.body.text())).toMatch(/BODY_TIMEOUT|body timeout/i);
      expect(performance.now() - started).toBeLessThan(5000);
    },
    15_000,
  );

  it.each(ROUTES)('reset (%s): the request goes with connection: close', async (route) => {
    const base = baseOf(route);
    const connection = async (reset?: boolean) => {
      const res = await request(`${base}/echo`, { dispatcher: mesh.dispatcher(), reset });
      return ((await res.body.json()) as { headers: Record<string, string> }).headers.connection;
    };
    expect(await connection()).not.toBe('close');
    expect(await connection(true)).toBe('close');
  });

  it.each(ROUTES)(
    "responseHeaders: 'raw' (%s): the headers come as undici's flat array, as from undici's own Agent",
    async (route) => {
      const base = baseOf(route);
      const viaUndici = await request(`http://${outsider.address}/echo`, {
        dispatcher: plain,
        responseHeaders: 'raw',
      });
      await viaUndici.body.dump();
      const res = await request(`${base}/echo`, { dispatcher: mesh.dispatcher(), responseHeaders: 'raw' });
      await res.body.dump();
      expect(Array.isArray(res.headers)).toBe(true);
      const names = (raw: unknown) =>
        (raw as string[]).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      expect(names(res.headers)).toEqual(names(viaUndici.headers));
    },
  );

  it('throwOnError: refused on a mesh route, naming the field and the interceptor to use, as undici 7 refuses it', async () => {
    const opts = { dispatcher: mesh.dispatcher(), throwOnError: true } as Parameters<typeof request>[1];
    expect(
      await failureText(request(`http://${outsider.address}/status/500`, { ...opts, dispatcher: plain })),
    ).toMatch(/invalid throwOnError/);
    expect(await failureText(request(`http://${outsider.address}/status/500`, opts))).toMatch(
      /invalid throwOnError/,
    );
    const refused = await failureText(request('http://users/status/500', opts));
    expect(refused).toMatch(/TRELLIS_INVALID_REQUEST/);
    expect(refused).toMatch(/throwOnError.*interceptors\.responseError/);
  });

  it('maxRedirections: 0 is taken, any other value refused on a mesh route as undici 7 refuses it, naming the redirect interceptor', async () => {
    const given = (n: number) =>
      ({ dispatcher: mesh.dispatcher(), maxRedirections: n }) as Parameters<typeof request>[1];
    for (const base of ROUTES.map(baseOf)) {
      const res = await request(`${base}/echo`, given(0));
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    expect(await failureText(request(`http://${outsider.address}/echo`, given(2)))).toMatch(
      /maxRedirections is not supported/,
    );
    const refused = await failureText(request('http://users/echo', given(2)));
    expect(refused).toMatch(/TRELLIS_INVALID_REQUEST/);
    expect(refused).toMatch(/maxRedirections 2.*interceptors\.redirect/);
  });

  it('upgrade: refused on a mesh route with TRELLIS_UNSUPPORTED; a pass-through host gets what undici gives', async () => {
    const upgrade = (base: string, dispatcher: Dispatcher) =>
      failureText(
        dispatcher.upgrade({
          origin: base,
          path: '/echo',
          protocol: 'websocket',
        } as Dispatcher.UpgradeOptions),
      );
    const refused = await upgrade('http://users', mesh.dispatcher());
    expect(refused).toMatch(/TRELLIS_UNSUPPORTED/);
    expect(refused).toMatch(/upgrades and CONNECT are not carried by the mesh/);
    const viaUndici = await upgrade(`http://${outsider.address}`, plain);
    const passedThrough = await upgrade(`http://${outsider.address}`, mesh.dispatcher());
    expect(JSON.parse(passedThrough).code).toBe(JSON.parse(viaUndici).code);
  });
});

describe('blocking: carried to the endpoint pool, where it decides pipelining', () => {
  let recorder: Recorder;
  beforeAll(async () => {
    recorder = await startRecorder('hang');
  });
  afterAll(async () => {
    await recorder?.stop();
  });

  /** Sends two GETs with blocking: false over one connection that pipelines two, to an upstream that never answers. */
  async function bothSent(dispatcher: Dispatcher, origin: string, prefix: string): Promise<number> {
    const before = (await recorder.recorded()).length;
    const stop = new AbortController();
    const calls = [1, 2].map((i) =>
      dispatcher
        .request({ origin, path: `/${prefix}-${i}`, method: 'GET', blocking: false, signal: stop.signal })
        .catch(() => undefined),
    );
    const seen = (await recorder.waitFor(before + 2)).filter((r) => r.url.startsWith(`/${prefix}-`));
    stop.abort();
    await Promise.all(calls);
    return seen.length;
  }

  it("blocking: false lets a second request be pipelined behind a pending one, as on undici's own Pool", async () => {
    const pool = new Pool(`http://${recorder.address}`, { connections: 1, pipelining: 2 });
    const piped = Mesh.builder()
      .service('piped', (s) =>
        s.discovery(staticEndpoints([recorder.address])).transport({ connections: 1, pipelining: 2 }),
      )
      .build();
    const passthrough = new Agent({ connections: 1, pipelining: 2 });
    try {
      expect(await bothSent(pool, `http://${recorder.address}`, 'pool')).toBe(2);
      expect(await bothSent(piped.dispatcher(), 'http://piped', 'mesh')).toBe(2);
      const through = piped.dispatcher({ passthrough });
      expect(await bothSent(through, `http://${recorder.address}`, 'through')).toBe(2);
    } finally {
      await Promise.all([pool.destroy(), piped.close(), passthrough.destroy()]);
    }
  }, 20_000);
});

describe('expectContinue: carried to an HTTP/2 endpoint, which gets expect: 100-continue', () => {
  let server: H2Upstream;
  beforeAll(async () => {
    server = await startH2Upstream();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('on a mesh route and a pass-through host', async () => {
    const secure = Mesh.builder()
      .service('secure', (s) =>
        s
          .discovery(staticEndpoints([`127.0.0.1:${server.port}`]))
          .transport({ http2: true, tls: { ca: server.caCert } }),
      )
      .build();
    const passthrough = new Agent({ allowH2: true, connect: { ca: server.caCert } });
    const dispatcher = secure.dispatcher({ passthrough });
    const expectHeader = async (origin: string) => {
      const res = await dispatcher.request({
        origin,
        path: '/info',
        method: 'POST',
        body: 'x',
        expectContinue: true,
      });
      const info = (await res.body.json()) as { httpVersion: string; headers: Record<string, string> };
      expect(info.httpVersion).toBe('2.0');
      return info.headers.expect;
    };
    try {
      expect(await expectHeader('http://secure')).toBe('100-continue');
      expect(await expectHeader(`https://127.0.0.1:${server.port}`)).toBe('100-continue');
    } finally {
      await Promise.all([secure.close(), passthrough.close()]);
    }
  });
});

describe('typeOfService: carried to the endpoint pool, which checks it as undici does', () => {
  it.each(ROUTES)(
    '%s: a valid value is taken, an invalid one refused with what undici allows',
    async (route) => {
      const origin = baseOf(route);
      const res = await mesh
        .dispatcher()
        .request({ origin, path: '/echo', method: 'GET', typeOfService: 16 });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      const refused = await failureText(
        mesh.dispatcher().request({ origin, path: '/echo', method: 'GET', typeOfService: 300 }),
      );
      expect(refused).toMatch(/typeOfService must be an integer between 0 and 255/);
      if (route === 'mesh route') expect(refused).toMatch(/TRELLIS_INVALID_REQUEST/);
    },
  );
});

describe("idempotent: undici's 'can be safely retried', which the mesh's retries honour", () => {
  let counting: CountingUpstream;
  let counted: Mesh;
  let seq = 0;
  beforeAll(async () => {
    [counting] = await startCounting('idempotent');
    await counting.mode('fail503');
    counted = Mesh.builder()
      .stack((st) => st.remove('breaker').remove('health'))
      .service('counted', (s) => s.discovery(staticEndpoints([counting.address])))
      .build();
  });
  afterAll(async () => {
    await counted?.close();
    await counting?.kill();
  });

  /** How many times the upstream executed one request sent with these options (it answers 503). */
  async function executions(origin: string, method: 'GET' | 'POST', idempotent?: boolean): Promise<number> {
    const id = `idem-${++seq}`;
    const res = await counted
      .dispatcher()
      .request({ origin, path: '/work', method, headers: { 'x-request-id': id }, idempotent });
    expect(res.statusCode).toBe(503);
    await res.body.dump();
    return (await counting.stats()).executed[id] ?? 0;
  }

  it('on a mesh route: a POST marked idempotent is retried, a GET marked not idempotent is not', async () => {
    expect(await executions('http://counted', 'POST')).toBe(1);
    expect(await executions('http://counted', 'POST', true)).toBe(3);
    expect(await executions('http://counted', 'GET')).toBe(3);
    expect(await executions('http://counted', 'GET', false)).toBe(1);
  });

  it('on a pass-through host it reaches undici, which never retries', async () => {
    expect(await executions(`http://${counting.address}`, 'POST', true)).toBe(1);
  });
});
