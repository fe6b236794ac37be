import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyReadable } from '../../src/transport/body-readable.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream('body-readable');
});

afterAll(async () => {
  await upstream?.stop();
});

// The transport loads undici's response body class by path (it is not exported): these fail when
// an undici update moves it or changes what its constructor takes.
describe("undici's BodyReadable, as the transport loads it", () => {
  it("is the class undici's own request() answers with", async () => {
    const res = await request(`http://${upstream.address}/`);
    expect(res.body).toBeInstanceOf(BodyReadable);
    await res.body.dump();
  });

  it('is built from resume, abort, content type and length, and offers text() and json()', async () => {
    let aborted = 0;
    const body = new BodyReadable({
      resume() {},
      abort: () => aborted++,
      contentType: 'application/json',
      contentLength: 7,
    });
    body.push('{"a":1}');
    body.push(null);
    expect(await body.json()).toEqual({ a: 1 });
    const cut = new BodyReadable({ resume() {}, abort: () => aborted++ });
    cut.on('error', () => {}).destroy();
    expect(aborted).toBe(1);
  });
});
