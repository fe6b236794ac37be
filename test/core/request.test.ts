import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/index.js';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh } from '../../src/index.js';
import { type ListenerProcess, startListener } from '../support/listener-process.js';
import { fixture } from '../support/processes.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let upstreams: Upstream[];
let piper: ListenerProcess;
let mesh: Mesh;

beforeAll(async () => {
  [upstreams, piper] = await Promise.all([
    startUpstreams('a', 'b'),
    startListener(fixture('pipe-upstream.mjs'), ['http']),
  ]);
  mesh = Mesh.builder()
    // Round robin named explicitly: one test checks that requests alternate between endpoints.
    .service('users', (s) =>
      s.discovery(staticEndpoints(upstreams.map((u) => u.address))).balancer(roundRobin()),
    )
    .service('piper', (s) => s.discovery(staticEndpoints([`127.0.0.1:${piper.port}`])))
    .service('empty', (s) => s.discovery({ description: 'silent', resolve: () => ({ close() {} }) }))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await Promise.all([...(upstreams ?? []).map((u) => u.stop()), piper?.stop()]);
});

/** Whether this machine can listen on ::1 (some containers have no IPv6 loopback). */
async function ipv6Available(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

const IPV6 = await ipv6Available();

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (err: unknown) => err,
  );
}

describe('mesh.request()', () => {
  it('sends the method, path, headers and body, and returns status, headers and body', async () => {
    const res = await mesh.request({
      service: 'users',
      method: 'POST',
      path: '/echo?x=1',
      headers: { 'content-type': 'text/plain', 'x-trace': 'abc' },
      body: 'hello',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const echo = (await res.body.json()) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(echo).toMatchObject({ method: 'POST', url: '/echo?x=1', body: 'hello' });
    expect(echo.headers['x-trace']).toBe('abc');
  });

  it('sends the logical service name as the Host header unless the caller sets one', async () => {
    const plain = await mesh.request({ service: 'users', path: '/echo' });
    expect(((await plain.body.json()) as { headers: Record<string, string> }).headers.host).toBe('users');
    const custom = await mesh.request({
      service: 'users',
      path: '/echo',
      headers: { host: 'users.example' },
    });
    expect(((await custom.body.json()) as { headers: Record<string, string> }).headers.host).toBe(
      'users.example',
    );
  });

  it.runIf(IPV6)(
    'dials an IPv6 endpoint by its address while the Host header stays the service name',
    async () => {
      const v6 = await startListener(fixture('pipe-upstream.mjs'), ['http', '::1']);
      const local = Mesh.builder()
        .service('v6', (s) => s.discovery(staticEndpoints([`[::1]:${v6.port}`])))
        .build();
      try {
        const res = await local.request({ service: 'v6', path: '/info' });
        expect(((await res.body.json()) as { headers: Record<string, string> }).headers.host).toBe('v6');
      } finally {
        await local.close();
        await v6.stop();
      }
    },
  );

  it('spreads requests over the endpoints in turn', async () => {
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await mesh.request({ service: 'users', path: '/' });
      names.add(await res.body.text());
    }
    expect(names).toEqual(new Set(['ok a', 'ok b']));
  });

  it('passes error statuses through as responses, not exceptions', async () => {
    const res = await mesh.request({ service: 'users', path: '/status/503' });
    expect(res.statusCode).toBe(503);
    expect(await res.body.text()).toBe('status 503');
  });

  it('streams the response body: the first chunk arrives before the upstream has finished', async () => {
    const res = await mesh.request({ service: 'users', path: '/stream?n=4&ms=150' });
    const chunks: string[] = [];
    const firstChunkSeen = new Promise<void>((resolve) => res.body.once('data', () => resolve()));
    res.body.on('data', (c: Buffer) => chunks.push(c.toString()));
    await firstChunkSeen;
    // With 150 ms between chunks, the body cannot be complete when the first chunk is delivered.
    expect(chunks.join('')).not.toContain('chunk-3');
    await new Promise((resolve) => res.body.once('end', resolve));
    expect(chunks.join('')).toBe('chunk-0\nchunk-1\nchunk-2\nchunk-3\n');
  });

  it('streams the request body: the response starts while the body is still being written', async () => {
    const body = new Readable({ read() {} });
    body.push('first,');
    const res = await mesh.request({ service: 'piper', method: 'POST', path: '/pipe', body });
    // The headers came back although the body has not ended: nothing buffered it.
    expect(res.headers['x-piped']).toBe('yes');
    const received: string[] = [];
    const firstEcho = new Promise<void>((resolve) => res.body.once('data', () => resolve()));
    res.body.on('data', (c: Buffer) => received.push(c.toString()));
    await firstEcho;
    body.push('second');
    body.push(null);
    await new Promise((resolve) => res.body.once('end', resolve));
    expect(received.join('')).toBe('first,second');
  });

  it('rejects with TRELLIS_ABORTED when the signal is aborted before the response headers', async () => {
    const controller = new AbortController();
    const pending = mesh.request({ service: 'users', path: '/hang', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const err = await rejection(pending);
    expect(isTrellisError(err, ErrorCode.Aborted)).toBe(true);
  });

  it('rejects at once with TRELLIS_ABORTED when the signal was aborted before the call', async () => {
    const err = await rejection(mesh.request({ service: 'users', path: '/', signal: AbortSignal.abort() }));
    expect(isTrellisError(err, ErrorCode.Aborted)).toBe(true);
  });

  it('fails the body stream when the signal is aborted after the response headers', async () => {
    const controller = new AbortController();
    const res = await mesh.request({
      service: 'users',
      path: '/stream?n=50&ms=50',
      signal: controller.signal,
    });
    expect(res.statusCode).toBe(200);
    controller.abort();
    await expect(res.body.text()).rejects.toThrow();
  });

  it('fails the body stream when the upstream closes the socket mid-response', async () => {
    const res = await mesh.request({ service: 'users', path: '/close-mid' });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });

  it('blames the caller, not the upstream, when a Readable request body fails mid-request', async () => {
    const body = new Readable({ read() {} });
    body.push('partial');
    setTimeout(() => body.destroy(new Error('disk read failed')), 50);
    const err = await rejection(mesh.request({ service: 'users', method: 'POST', path: '/echo', body }));
    expect(isTrellisError(err, ErrorCode.InvalidRequest)).toBe(true);
    expect((err as Error).message).toMatch(
      /request body stream failed: disk read failed\. The upstream is not at fault/,
    );
  });

  it('blames the caller when an async-iterable request body throws mid-request', async () => {
    async function* body() {
      yield Buffer.from('partial');
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error('generator failed');
    }
    const err = await rejection(
      mesh.request({ service: 'users', method: 'POST', path: '/echo', body: body() }),
    );
    expect(isTrellisError(err, ErrorCode.InvalidRequest)).toBe(true);
    expect((err as Error).message).toMatch(/request body stream failed: generator failed/);
  });

  it('rejects a malformed request with TRELLIS_INVALID_REQUEST before anything is sent', async () => {
    const badPath = await rejection(mesh.request({ service: 'users', path: 'no-leading-slash' }));
    expect(isTrellisError(badPath, ErrorCode.InvalidRequest)).toBe(true);
    const badHeader = await rejection(
      mesh.request({ service: 'users', path: '/', headers: { 'x-bad': 'line\r\nbreak' } }),
    );
    expect(isTrellisError(badHeader, ErrorCode.InvalidRequest)).toBe(true);
    expect((badHeader as Error).message).toMatch(/is malformed/);
  });

  it('fails with TRELLIS_UPSTREAM_UNAVAILABLE saying the answer was not valid HTTP when the upstream sends garbage headers', async () => {
    const garbage = await startListener(fixture('garbage-upstream.mjs'), []);
    const local = Mesh.builder()
      .service('garbage', (s) => s.discovery(staticEndpoints([`127.0.0.1:${garbage.port}`])))
      .build();
    try {
      const err = await rejection(local.request({ service: 'garbage', path: '/' }));
      expect(isTrellisError(err, ErrorCode.UpstreamUnavailable)).toBe(true);
      expect((err as Error).message).toMatch(
        /answered with something that is not valid HTTP: .*Invalid header token/,
      );
    } finally {
      await local.close();
      await garbage.stop();
    }
  });

  it('names the unknown service and lists the known ones', async () => {
    const err = await rejection(mesh.request({ service: 'nope', path: '/' }));
    expect(isTrellisError(err, ErrorCode.UnknownService)).toBe(true);
    expect((err as Error).message).toMatch(/Unknown service 'nope'\. Known services: users, piper, empty/);
    expect(() => mesh.snapshot('nope')).toThrow(
      /Unknown service 'nope'\. Known services: users, piper, empty\. Add it/,
    );
  });

  it('fails with TRELLIS_NO_ENDPOINTS once its deadline passes while discovery has published nothing', async () => {
    const err = await rejection(mesh.request({ service: 'empty', path: '/', timeout: 100 }));
    expect(isTrellisError(err, ErrorCode.NoEndpoints)).toBe(true);
    expect((err as Error).message).toMatch(/published no endpoints .*await mesh\.ready\(\)/);
  });

  it('fails with TRELLIS_UPSTREAM_UNAVAILABLE, marked as not sent, when the endpoint refuses connections', async () => {
    const gone = await startUpstreams('gone');
    const address = gone[0]!.address;
    await gone[0]!.stop();
    const local = Mesh.builder()
      .service('gone', (s) => s.discovery(staticEndpoints([address])))
      .build();
    try {
      const err = await rejection(local.request({ service: 'gone', path: '/' }));
      expect(isTrellisError(err, ErrorCode.UpstreamUnavailable)).toBe(true);
      expect((err as { details: { requestSent: boolean } }).details.requestSent).toBe(false);
    } finally {
      await local.close();
    }
  });
});
