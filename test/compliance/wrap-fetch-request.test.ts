import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let users: Upstream;
let mesh: Mesh;
let meshFetch: typeof fetch;

beforeAll(async () => {
  [users] = (await startUpstreams('users-1')) as [Upstream];
  mesh = Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints([users.address])))
    .build();
  meshFetch = mesh.wrapFetch(fetch);
});

afterAll(async () => {
  await mesh?.close();
  await users?.stop();
});

/** Node's built-in Request (its own copy of undici), which the mesh must rebuild as undici's. */
const BuiltinRequest = globalThis.Request;

async function echoedHeaders(request: Request): Promise<Record<string, string>> {
  const res = await meshFetch(request);
  return ((await res.json()) as { headers: Record<string, string> }).headers;
}

describe("mesh.wrapFetch keeps a built-in Request's fields when it rebuilds it", () => {
  it('integrity is still checked: a wrong hash fails, the right one passes', async () => {
    // /anything answers `ok <name>`; its hash is known in advance.
    const good = `sha256-${createHash('sha256').update('ok users-1').digest('base64')}`;
    const ok = await meshFetch(new BuiltinRequest('http://users/anything', { integrity: good }));
    expect(await ok.text()).toBe('ok users-1');
    const bad = `sha256-${createHash('sha256').update('something else').digest('base64')}`;
    await expect(
      meshFetch(new BuiltinRequest('http://users/anything', { integrity: bad })),
    ).rejects.toThrow();
  });

  it("cache: 'no-store' still sends cache-control and pragma no-cache", async () => {
    const headers = await echoedHeaders(
      new BuiltinRequest('http://users/echo', { cache: 'no-store' } as RequestInit),
    );
    expect(headers['cache-control']).toBe('no-cache');
    expect(headers.pragma).toBe('no-cache');
    const plain = await echoedHeaders(new BuiltinRequest('http://users/echo'));
    expect(plain['cache-control']).toBeUndefined();
  });

  it('method, body, redirect and signal are still kept', async () => {
    const res = await meshFetch(
      new BuiltinRequest('http://users/echo', { method: 'POST', body: 'hello', redirect: 'manual' }),
    );
    expect(((await res.json()) as { method: string; body: string }).body).toBe('hello');
    const controller = new AbortController();
    controller.abort();
    await expect(
      meshFetch(new BuiltinRequest('http://users/echo', { signal: controller.signal })),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
