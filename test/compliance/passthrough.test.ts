import { fileURLToPath } from 'node:url';
import {
  Agent,
  type Dispatcher,
  getGlobalDispatcher,
  ProxyAgent,
  request,
  setGlobalDispatcher,
} from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { type ListenerProcess, startListener } from '../support/listener-process.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

const PROXY = fileURLToPath(new URL('../fixtures/forward-proxy.mjs', import.meta.url));

let users: Upstream;
let outsider: Upstream;
let proxy: ListenerProcess;
const plain = new Agent();
const originalGlobal = getGlobalDispatcher();

beforeAll(async () => {
  [users, outsider] = (await startUpstreams('users-1', 'outsider')) as [Upstream, Upstream];
  proxy = await startListener(PROXY, ['0']);
});

afterEach(() => setGlobalDispatcher(originalGlobal));

afterAll(async () => {
  await plain.close();
  await Promise.all([users?.stop(), outsider?.stop(), proxy?.stop()]);
});

function usersMesh(): Mesh {
  return Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints([users.address])))
    .build();
}

/** What the real proxy process has carried so far. */
async function proxied(): Promise<string[]> {
  const res = await request(`http://127.0.0.1:${proxy.port}/__proxied`, { dispatcher: plain });
  return (await res.body.json()) as string[];
}

async function upstreamName(url: string, dispatcher: Dispatcher): Promise<string> {
  const res = await request(url, { dispatcher });
  return ((await res.body.json()) as { name: string }).name;
}

describe('pass-through hosts go to the dispatcher the application chose', () => {
  it('a ProxyAgent installed globally before the mesh carries pass-through requests; mesh routes skip it', async () => {
    const proxyAgent = new ProxyAgent(`http://127.0.0.1:${proxy.port}`);
    setGlobalDispatcher(proxyAgent);
    const mesh = usersMesh();
    const before = (await proxied()).length;
    expect(await upstreamName(`http://${outsider.address}/echo`, mesh.dispatcher())).toBe('outsider');
    expect(await upstreamName('http://users/echo', mesh.dispatcher())).toBe('users-1');
    expect((await proxied()).slice(before)).toEqual([`tunnel ${outsider.address}`]);
    // Closing the mesh leaves the application's proxy agent open.
    setGlobalDispatcher(originalGlobal);
    await mesh.close();
    expect(await upstreamName(`http://${outsider.address}/echo`, proxyAgent)).toBe('outsider');
    await proxyAgent.close();
  });

  it('mesh.dispatcher({ passthrough }) sends pass-through requests to the given dispatcher, and close() leaves it open', async () => {
    const mesh = usersMesh();
    const proxyAgent = new ProxyAgent(`http://127.0.0.1:${proxy.port}`);
    const proxiedDispatcher = mesh.dispatcher({ passthrough: proxyAgent });
    const before = (await proxied()).length;
    expect(await upstreamName(`http://${outsider.address}/echo`, proxiedDispatcher)).toBe('outsider');
    expect(await upstreamName('http://users/echo', proxiedDispatcher)).toBe('users-1');
    // The mesh's default dispatcher still goes straight out (the global dispatcher was undici's own).
    expect(await upstreamName(`http://${outsider.address}/echo`, mesh.dispatcher())).toBe('outsider');
    expect((await proxied()).slice(before)).toEqual([`tunnel ${outsider.address}`]);
    await mesh.close();
    // The closed mesh dispatcher refuses, as undici's closed dispatchers do; the proxy agent is still open.
    await expect(
      request(`http://${outsider.address}/echo`, { dispatcher: proxiedDispatcher }),
    ).rejects.toMatchObject({
      code: 'UND_ERR_CLOSED',
    });
    expect(await upstreamName(`http://${outsider.address}/echo`, proxyAgent)).toBe('outsider');
    await proxyAgent.close();
  });

  it('a mesh dispatcher made while the mesh is the global one passes through without looping', async () => {
    const mesh = usersMesh();
    setGlobalDispatcher(mesh.dispatcher());
    const second = mesh.dispatcher({});
    expect(await upstreamName(`http://${outsider.address}/echo`, second)).toBe('outsider');
    setGlobalDispatcher(originalGlobal);
    await mesh.close();
  });

  it('refuses an unknown option or a passthrough that is not a dispatcher', async () => {
    const mesh = usersMesh();
    expect(() => mesh.dispatcher({ passThrough: plain } as never)).toThrow(/unknown option 'passThrough'/);
    expect(() => mesh.dispatcher({ passthrough: {} as never })).toThrow(
      /passthrough must be an undici Dispatcher/,
    );
    await mesh.close();
  });
});
