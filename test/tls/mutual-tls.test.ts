import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { roundRobin } from '../../src/balancers/index.js';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh } from '../../src/index.js';
import { mutualTls, tlsFromFiles } from '../../src/tls/index.js';
import { createTestPki, type TestPki } from '../support/certs.js';
import { type ListenerProcess, startListener } from '../support/listener-process.js';

const TLS_UPSTREAM = fileURLToPath(new URL('../fixtures/tls-upstream.mjs', import.meta.url));
const USERS_ID = 'spiffe://test.trellis/ns/prod/sa/users';
const CLIENT_ID = 'spiffe://test.trellis/ns/prod/sa/web';

let pki: TestPki;
let upstream: ListenerProcess;

beforeAll(async () => {
  pki = await createTestPki();
  const server = await pki.issue('users', [`URI:${USERS_ID}`, 'DNS:users.prod.internal', 'IP:127.0.0.1']);
  upstream = await startListener(TLS_UPSTREAM, [pki.caCertPath, server.certPath, server.keyPath, 'users']);
});

afterAll(async () => {
  await upstream?.stop();
  pki?.cleanup();
});

function meshWith(tls: ReturnType<typeof mutualTls>): Mesh {
  return Mesh.builder()
    .service('users', (s) =>
      s
        .discovery(staticEndpoints([`127.0.0.1:${upstream.port}`]))
        .balancer(roundRobin())
        .transport({ tls }),
    )
    .build();
}

describe('mutual TLS with service identity (real certificates, real HTTPS upstream process)', () => {
  test('a client with a certificate from the mesh CA reaches an upstream that presents the expected SPIFFE identity', async () => {
    const client = await pki.issue('web', [`URI:${CLIENT_ID}`]);
    const mesh = meshWith(
      mutualTls({ ca: pki.caCert, cert: client.cert, key: client.key, serverIdentity: USERS_ID }),
    );
    try {
      const res = await mesh.request({ service: 'users', path: '/' });
      expect(res.statusCode).toBe(200);
      const body = (await res.body.json()) as { client: string };
      expect(body.client).toContain(CLIENT_ID);
    } finally {
      await mesh.close();
    }
  });

  test('the upstream is refused with TRELLIS_TLS_FAILED when it presents a different identity', async () => {
    const client = await pki.issue('web2', [`URI:${CLIENT_ID}`]);
    const mesh = meshWith(
      mutualTls({
        ca: pki.caCert,
        cert: client.cert,
        key: client.key,
        serverIdentity: 'spiffe://test.trellis/ns/prod/sa/billing',
      }),
    );
    try {
      const err = await mesh.request({ service: 'users', path: '/' }).catch((e: unknown) => e);
      expect(isTrellisError(err, ErrorCode.TlsFailed)).toBe(true);
      expect((err as Error).message).toContain(USERS_ID);
      expect((err as Error).message).toContain('billing');
    } finally {
      await mesh.close();
    }
  });

  test('a DNS-name identity is accepted as an alternative to a SPIFFE ID', async () => {
    const client = await pki.issue('web3', [`URI:${CLIENT_ID}`]);
    const mesh = meshWith(
      mutualTls({
        ca: pki.caCert,
        cert: client.cert,
        key: client.key,
        serverIdentity: ['users.prod.internal'],
      }),
    );
    try {
      const res = await mesh.request({ service: 'users', path: '/' });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await mesh.close();
    }
  });

  test('a client certificate signed by a foreign CA is rejected by the upstream, with a TLS error code', async () => {
    const stranger = await pki.issue('stranger', [`URI:${CLIENT_ID}`], { ca: 'foreign' });
    const mesh = meshWith(
      mutualTls({ ca: pki.caCert, cert: stranger.cert, key: stranger.key, serverIdentity: USERS_ID }),
    );
    try {
      const err = await mesh.request({ service: 'users', path: '/' }).catch((e: unknown) => e);
      expect(isTrellisError(err)).toBe(true);
      expect([ErrorCode.TlsFailed, ErrorCode.UpstreamUnavailable]).toContain((err as { code: string }).code);
    } finally {
      await mesh.close();
    }
  });

  test('tlsFromFiles loads PEM files and refuses a missing file with a message naming it', async () => {
    const client = await pki.issue('web4', [`URI:${CLIENT_ID}`]);
    const tls = tlsFromFiles({ ca: pki.caCertPath, cert: client.certPath, key: client.keyPath });
    expect(String(tls.ca)).toContain('BEGIN CERTIFICATE');
    expect(() => tlsFromFiles({ ca: `${pki.dir}/missing.pem` })).toThrow(/missing\.pem/);
    expect(() => tlsFromFiles({ cert: client.certPath })).toThrow(/both `cert` and `key`/);
  });
});
