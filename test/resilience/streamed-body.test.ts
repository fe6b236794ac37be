import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh, type TrellisError } from '../../src/index.js';
import { retries } from '../../src/resilience/retry-layer.js';
import { childOutput } from '../support/child-output.js';
import { type ListenerProcess, startListener } from '../support/listener-process.js';
import { fixture } from '../support/processes.js';

// A streamed request body on a mesh route goes to the upstream as the caller produces it (issue
// 11: it was held back and buffered, 64 KiB, before anything was sent, and its chunked encoding
// became a content-length); the retry layer keeps a copy only up to its bound to replay.

let upstream: ListenerProcess;
let mesh: Mesh;
const retried: string[] = [];

beforeAll(async () => {
  upstream = await startListener(fixture('body-upstream.mjs'), []);
  const at = staticEndpoints([`127.0.0.1:${upstream.port}`]);
  mesh = Mesh.builder()
    // One endpoint, no breaker nor ejection: each test sees its own request's attempts.
    .stack((st) => st.remove('breaker').remove('health'))
    .service('bodies', (s) => s.discovery(at))
    .service('small-buffer', (s) => s.discovery(at).layer(retries({ maxBufferBytes: 1024 })))
    .build();
  mesh.on('retry', (service, attempt) => retried.push(`${service} ${attempt}`));
});

afterAll(async () => {
  await mesh?.close();
  await upstream?.stop();
});

/** Resolves when the upstream reports chunk `n` of request `id` (as it arrives there). */
function upstreamReceived(id: string, n: number, text: string): Promise<unknown> {
  return childOutput(
    upstream.process,
    upstream.process.stdout!,
    new RegExp(`chunk ${id} ${n} \\d+ ${text}`),
    `the upstream to receive chunk ${n} of ${id}`,
    5000,
  );
}

interface Received {
  transferEncoding?: string;
  contentLength?: string;
  chunks: string[];
  attempt: number;
}

describe('a streamed PUT body on a mesh route', () => {
  it('reaches the upstream chunk by chunk as it is written, chunked (a Readable)', async () => {
    const body = new Readable({ read() {} });
    body.push('first;');
    const call = mesh.request({ service: 'bodies', method: 'PUT', path: '/put?id=readable', body });
    const order: string[] = [];
    await upstreamReceived('readable', 1, 'first;');
    order.push('upstream got chunk 1');
    order.push('caller writes chunk 2');
    body.push('second');
    body.push(null);
    const res = await call;
    const got = (await res.body.json()) as Received;
    expect(order).toEqual(['upstream got chunk 1', 'caller writes chunk 2']);
    expect(got.transferEncoding).toBe('chunked');
    expect(got.contentLength).toBeUndefined();
    expect(got.chunks).toEqual(['first;', 'second']);
  });

  it('reaches the upstream chunk by chunk as it is produced (an async iterable)', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* produce() {
      yield Buffer.from('one;');
      await released;
      yield Buffer.from('two');
    }
    const call = mesh.request({
      service: 'bodies',
      method: 'PUT',
      path: '/put?id=iterable',
      body: produce(),
    });
    await upstreamReceived('iterable', 1, 'one;');
    release();
    const got = (await (await call).body.json()) as Received;
    expect(got.transferEncoding).toBe('chunked');
    expect(got.chunks).toEqual(['one;', 'two']);
  });

  it('is replayed on a retry when it is within the bound, chunk by chunk', async () => {
    retried.length = 0;
    const body = Readable.from([Buffer.from('alpha;'), Buffer.from('beta')]);
    const res = await mesh.request({
      service: 'bodies',
      method: 'PUT',
      path: '/reset?id=replayed&fails=1',
      body,
    });
    const got = (await res.body.json()) as Received;
    expect(res.statusCode).toBe(200);
    expect(got.attempt).toBe(2);
    expect(got.chunks.join('')).toBe('alpha;beta');
    expect(got.transferEncoding).toBe('chunked');
    expect(retried).toEqual(['bodies 2']);
  });

  it('past the bound is not retried, and the failure says why', async () => {
    retried.length = 0;
    const body = Readable.from([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')]);
    const err = await mesh
      .request({ service: 'small-buffer', method: 'PUT', path: '/reset?id=too-long&fails=1', body })
      .then(
        () => undefined,
        (e: unknown) => e as TrellisError,
      );
    expect(isTrellisError(err, ErrorCode.UpstreamUnavailable)).toBe(true);
    expect(err!.message).toMatch(/not retried: its streamed request body was longer than the 1024 bytes/);
    expect(err!.details.retryRefused).toBe('body-too-long');
    expect(retried).toEqual([]);
  });
});
