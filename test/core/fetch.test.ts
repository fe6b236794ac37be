import { Readable } from 'node:stream';
import { type Dispatcher, interceptors, Request as UndiciRequest, request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { type FetchInit, type FetchInput, type Layer, Mesh } from '../../src/index.js';
import { retries } from '../../src/resilience/index.js';
import { type ListenerProcess, startListener } from '../support/listener-process.js';
import { fixture } from '../support/processes.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let mesh: Mesh;
let users: Upstream;
let outsider: Upstream;
let piper: ListenerProcess;

interface Echo {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** When each call to the `patient` service ended inside the mesh (resolves with `performance.now()`). */
const patientCalls: Array<Promise<number>> = [];
const settleWatch: Layer = {
  name: 'settle-watch',
  wrap: (next) => (ctx) => {
    const call = next(ctx);
    patientCalls.push(call.then(performance.now.bind(performance), performance.now.bind(performance)));
    return call;
  },
};

beforeAll(async () => {
  [[users, outsider], piper] = await Promise.all([
    startUpstreams('users-1', 'outsider') as Promise<[Upstream, Upstream]>,
    startListener(fixture('pipe-upstream.mjs'), ['http']),
  ]);
  mesh = Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints([users.address])).hosts('users.internal'))
    .service('piper', (s) => s.discovery(staticEndpoints([`127.0.0.1:${piper.port}`])))
    // Retries 503s after a 2970 ms backoff, so an abort can land while the retry waits.
    .service('patient', (s) =>
      s
        .discovery(staticEndpoints([users.address]))
        .layer(retries({ retries: 2, backoffBaseMs: 3000, backoffMaxMs: 3000, random: () => 0.99 }))
        .stack((st) => st.prepend(settleWatch)),
    )
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await Promise.all([users?.stop(), outsider?.stop(), piper?.stop()]);
});

describe('mesh.fetch()', () => {
  it('sends a URL string to the service its host names, with method, headers and body', async () => {
    const res = await mesh.fetch('http://users/echo?q=1', {
      method: 'PUT',
      headers: { 'x-trace': 't1' },
      body: 'payload',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream')).toBe('users-1');
    const echo = (await res.json()) as Echo;
    expect(echo).toMatchObject({ name: 'users-1', method: 'PUT', url: '/echo?q=1', body: 'payload' });
    expect(echo.headers['x-trace']).toBe('t1');
    expect(echo.headers.host).toBe('users');
  });

  it('routes a claimed host name and a URL object to the same service', async () => {
    const res = await mesh.fetch(new URL('http://users.internal/echo'));
    expect(((await res.json()) as Echo).name).toBe('users-1');
  });

  it("accepts a Request made by undici's own Request class", async () => {
    const req = new UndiciRequest('http://users/echo', { method: 'POST', body: 'from-undici' });
    expect(((await (await mesh.fetch(req)).json()) as Echo).body).toBe('from-undici');
  });

  it("accepts a Request made by Node's built-in Request class, keeping method, headers and body", async () => {
    const req = new Request('http://users/echo', {
      method: 'POST',
      headers: { 'x-kind': 'builtin' },
      body: 'from-node',
    });
    const echo = (await (await mesh.fetch(req)).json()) as Echo;
    expect(echo).toMatchObject({ method: 'POST', body: 'from-node' });
    expect(echo.headers['x-kind']).toBe('builtin');
  });

  it('passes error statuses through as responses', async () => {
    const res = await mesh.fetch('http://users/status/404');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('status 404');
  });

  it('streams the response body chunk by chunk', async () => {
    const res = await mesh.fetch('http://users/stream?n=3&ms=100');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('chunk-0\n');
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('chunk-1\nchunk-2\n');
  });

  it('streams a ReadableStream request body while the response streams back', async () => {
    let push!: (text: string | null) => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (text) =>
          text === null ? controller.close() : controller.enqueue(new TextEncoder().encode(text));
      },
    });
    push('one,');
    const res = await mesh.fetch('http://piper/pipe', {
      method: 'POST',
      body,
      duplex: 'half',
    } as FetchInit);
    expect(res.headers.get('x-piped')).toBe('yes');
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('one,');
    push('two');
    push(null);
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('two');
  });

  it('rejects with an AbortError when aborted before the response headers', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(mesh.fetch('http://users/hang', { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('ends the call at once when the caller aborts while a retry waits out its backoff', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(
      mesh.fetch('http://patient/status/503', { signal: controller.signal }),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
    const abortedAt = performance.now();
    // fetch rejects on its own when its signal fires; the mesh must also stop waiting (the retry
    // was due 2970 ms after the first answer), not hold the call until then.
    const ended = (await patientCalls.at(-1)) ?? Number.NaN;
    expect(ended - abortedAt).toBeLessThan(1500);
  });

  it('errors the body when aborted after the response headers', async () => {
    const controller = new AbortController();
    const res = await mesh.fetch('http://users/stream?n=50&ms=50', { signal: controller.signal });
    controller.abort();
    await expect(res.text()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('errors the body when the upstream closes the socket mid-response', async () => {
    const res = await mesh.fetch('http://users/close-mid');
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('passes hosts that are not mesh services through untouched', async () => {
    const res = await mesh.fetch(`http://${outsider.address}/echo`);
    const echo = (await res.json()) as Echo;
    expect(echo.name).toBe('outsider');
    expect(echo.headers.host).toBe(outsider.address);
  });
});

describe('mesh.wrapFetch()', () => {
  it("wraps Node's built-in fetch with its own type: mesh hosts through the mesh, others through fetch", async () => {
    const meshFetch: typeof fetch = mesh.wrapFetch(fetch);
    const meshed = (await (
      await meshFetch('http://users/echo', { method: 'POST', body: 'x' })
    ).json()) as Echo;
    expect(meshed).toMatchObject({ name: 'users-1', body: 'x' });
    const passed = (await (await meshFetch(new Request(`http://${outsider.address}/echo`))).json()) as Echo;
    expect(passed.name).toBe('outsider');
  });

  it('sends mesh hosts through the mesh and every other host to the wrapped fetch', async () => {
    const seen: string[] = [];
    const wrapped = mesh.wrapFetch((input: FetchInput, init?: FetchInit) => {
      seen.push(String(input));
      return mesh.fetch(input, init);
    });
    const meshed = (await (await wrapped('http://users/echo')).json()) as Echo;
    expect(meshed.name).toBe('users-1');
    expect(seen).toEqual([]);
    const passed = (await (await wrapped(`http://${outsider.address}/echo`)).json()) as Echo;
    expect(passed.name).toBe('outsider');
    expect(seen).toEqual([`http://${outsider.address}/echo`]);
  });
});

/** A handler of the current generation that exposes its controller and the chunks it received. */
function modernHandler(): {
  handler: Dispatcher.DispatchHandler;
  controller: Promise<Dispatcher.DispatchController>;
  chunks: Buffer[];
  done: Promise<void>;
} {
  const chunks: Buffer[] = [];
  let started!: (c: Dispatcher.DispatchController) => void;
  const controller = new Promise<Dispatcher.DispatchController>((resolve) => {
    started = resolve;
  });
  let end!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    end = resolve;
    fail = reject;
  });
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart(c) {
      started(c);
    },
    onResponseData(_c, chunk) {
      chunks.push(chunk);
    },
    onResponseEnd() {
      end();
    },
    onResponseError(_c, err) {
      fail(err);
    },
  };
  return { handler, controller, chunks, done };
}

/** Collects what a dispatch handler of the older generation (onConnect/onHeaders/onData...) receives. */
function legacyHandler(): {
  handler: Dispatcher.DispatchHandler;
  done: Promise<{ status: number; headers: string[]; body: string }>;
} {
  let status = 0;
  let headers: string[] = [];
  const chunks: Buffer[] = [];
  let settle!: (v: { status: number; headers: string[]; body: string }) => void;
  let fail!: (err: Error) => void;
  const done = new Promise<{ status: number; headers: string[]; body: string }>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const handler = {
    onConnect() {},
    onHeaders(statusCode: number, raw: Buffer[]) {
      status = statusCode;
      headers = raw.map(String);
      return true;
    },
    onData(chunk: Buffer) {
      chunks.push(chunk);
      return true;
    },
    onComplete() {
      settle({ status, headers, body: Buffer.concat(chunks).toString() });
    },
    onError(err: Error) {
      fail(err);
    },
  } as unknown as Dispatcher.DispatchHandler;
  return { handler, done };
}

describe('mesh.dispatcher()', () => {
  it('serves handlers of the current generation (onRequestStart, onResponseStart...) from undici interceptors', async () => {
    // The redirect interceptor hands the dispatcher a handler of the current generation.
    const composed = mesh.dispatcher().compose(interceptors.redirect({ maxRedirections: 1 }));
    const res = await undiciRequest('http://users/echo', {
      method: 'POST',
      body: Readable.from(['a', 'b']),
      dispatcher: composed,
    });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as Echo).body).toBe('ab');
  });

  it('lets a current-generation handler pause, resume and abort the response body', async () => {
    const { handler, controller, chunks, done } = modernHandler();
    mesh
      .dispatcher()
      .dispatch({ origin: 'http://users', path: '/stream?n=20&ms=20', method: 'GET' }, handler);
    const ctl = await controller;
    ctl.pause();
    expect(ctl.paused).toBe(true);
    const seenWhilePaused = chunks.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Paused: nothing more reached the handler although the upstream kept sending.
    expect(chunks.length).toBe(seenWhilePaused);
    ctl.resume();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(chunks.length).toBeGreaterThan(seenWhilePaused);
    ctl.abort(new Error('enough'));
    await expect(done).rejects.toThrow('enough');
    expect(ctl.aborted).toBe(true);
  });

  it('serves undici.request, which uses handlers of the older generation', async () => {
    const res = await undiciRequest('http://users/echo', {
      method: 'POST',
      body: Readable.from(['c', 'd']),
      dispatcher: mesh.dispatcher(),
    });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as Echo).body).toBe('cd');
  });

  it('serves handlers of the older generation (onConnect, onHeaders, onData, onComplete)', async () => {
    const { handler, done } = legacyHandler();
    mesh
      .dispatcher()
      .dispatch({ origin: 'http://users', path: '/echo', method: 'GET', query: { a: '1' } }, handler);
    const result = await done;
    expect(result.status).toBe(200);
    expect(result.headers).toContain('x-upstream');
    expect((JSON.parse(result.body) as Echo).url).toBe('/echo?a=1');
  });

  it('reports a failure mid-response to an older-generation handler through onError', async () => {
    const { handler, done } = legacyHandler();
    mesh.dispatcher().dispatch({ origin: 'http://users', path: '/close-mid', method: 'GET' }, handler);
    await expect(done).rejects.toThrow();
  });

  it('rejects undici.request with an abort error when its signal fires before the headers', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      undiciRequest('http://users/hang', { signal: controller.signal, dispatcher: mesh.dispatcher() }),
    ).rejects.toThrow(/abort/i);
  });

  it('refuses CONNECT with TRELLIS_UNSUPPORTED and passes other hosts through', async () => {
    const { handler, done } = legacyHandler();
    mesh.dispatcher().dispatch({ origin: 'http://users', path: '/', method: 'CONNECT' }, handler);
    await expect(done).rejects.toMatchObject({ code: 'TRELLIS_UNSUPPORTED' });
    const res = await undiciRequest(`http://${outsider.address}/`, { dispatcher: mesh.dispatcher() });
    expect(await res.body.text()).toBe('ok outsider');
  });
});
