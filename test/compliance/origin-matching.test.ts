import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, Mesh } from '../../src/index.js';
import { createTestPki, type TestPki } from '../support/certs.js';
import { type ListenerProcess, startListener } from '../support/listener-process.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

const TLS_UPSTREAM = fileURLToPath(new URL('../fixtures/tls-upstream.mjs', import.meta.url));

let users: Upstream;
let claimed: Upstream;
let other: Upstream;
let pki: TestPki;
let secure: ListenerProcess;
let mesh: Mesh;

beforeAll(async () => {
  [users, claimed, other] = (await startUpstreams('users-1', 'claimed', 'other')) as [
    Upstream,
    Upstream,
    Upstream,
  ];
  pki = await createTestPki();
  const server = await pki.issue('secure', ['DNS:secure', 'IP:127.0.0.1']);
  secure = await startListener(TLS_UPSTREAM, [pki.caCertPath, server.certPath, server.keyPath, 'secure-1']);
  const client = await pki.issue('web', ['URI:spiffe://test.trellis/web']);
  mesh = Mesh.builder()
    .service('users', (s) =>
      // This service takes over one address of another real process: 127.0.0.1:<claimed.port>.
      s.discovery(staticEndpoints([users.address])).hosts(`127.0.0.1:${claimed.port}`),
    )
    .service('secure', (s) =>
      s
        .discovery(staticEndpoints([`127.0.0.1:${secure.port}`]))
        .transport({ tls: { ca: pki.caCert, cert: client.cert, key: client.key } }),
    )
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await Promise.all([users?.stop(), claimed?.stop(), other?.stop(), secure?.stop()]);
  pki?.cleanup();
});

async function served(upstream: Upstream): Promise<number> {
  const res = await request(`http://${upstream.address}/echo`);
  return ((await res.body.json()) as { served: number }).served;
}

describe('an https: request to a mesh service', () => {
  it('is refused with TRELLIS_TLS_REQUIRED, and nothing is sent, when the service speaks plain HTTP', async () => {
    const before = await served(users);
    const viaFetch = await mesh
      .fetch('https://users/echo', { method: 'POST', body: 'secret' })
      .catch((e) => e);
    expect((viaFetch as Error).cause).toMatchObject({ code: ErrorCode.TlsRequired });
    const viaDispatcher = await request('https://users/echo', { dispatcher: mesh.dispatcher() }).catch(
      (e) => e,
    );
    expect(viaDispatcher).toMatchObject({
      code: ErrorCode.TlsRequired,
      details: { service: 'users', origin: 'https://users' },
    });
    expect((viaDispatcher as Error).message).toMatch(/never sends an https: request in plaintext/);
    // The upstream saw only our own two /echo probes.
    expect(await served(users)).toBe(before + 1);
  });

  it('goes over TLS (mutual, real certificates) when the service has TLS', async () => {
    const res = await mesh.fetch('https://secure/');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: 'secure-1',
      client: expect.stringContaining('spiffe://'),
    });
  });
});

describe('which origins a claim matches: scheme, host and port', () => {
  it('a claim with a port takes that one address, and the other ports of the host pass through', async () => {
    const taken = (await (await mesh.fetch(`http://127.0.0.1:${claimed.port}/echo`)).json()) as {
      name: string;
    };
    expect(taken.name).toBe('users-1');
    const passed = (await (await mesh.fetch(`http://127.0.0.1:${other.port}/echo`)).json()) as {
      name: string;
    };
    expect(passed.name).toBe('other');
    const wrapped = mesh.wrapFetch(fetch);
    expect(
      ((await (await wrapped(`http://127.0.0.1:${other.port}/echo`)).json()) as { name: string }).name,
    ).toBe('other');
    expect(
      ((await (await wrapped(`http://127.0.0.1:${claimed.port}/echo`)).json()) as { name: string }).name,
    ).toBe('users-1');
  });

  it('a claim without a port matches the default port only: http://users:8080 is not the mesh service', () => {
    expect(mesh.isMeshHost('users')).toBe(true);
    expect(mesh.isMeshHost('users:80')).toBe(true);
    expect(mesh.isMeshHost('users:8080')).toBe(false);
    expect(mesh.isMeshHost(`127.0.0.1:${claimed.port}`)).toBe(true);
    expect(mesh.isMeshHost('127.0.0.1')).toBe(false);
  });

  it.each([
    ['localhost', /would shadow a real address/],
    ['api.localhost', /would shadow a real address/],
    ['127.0.0.1', /would shadow a real address/],
    ['10.0.0.7', /would shadow a real address/],
    ['169.254.169.254', /link-local/],
    ['169.254.169.254:80', /link-local/],
    ['users:0', /invalid port/],
    ['users:70000', /invalid port/],
  ])('refuses to claim %s at build()', (claim, problem) => {
    let thrown: unknown;
    try {
      Mesh.builder()
        .service('users', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])).hosts(claim))
        .build();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: ErrorCode.InvalidConfig });
    expect(String((thrown as { details: { problems: string[] } }).details.problems)).toMatch(problem);
  });
});
