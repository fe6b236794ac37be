import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh } from '../../src/index.js';
import { isSpiffeId, validateIdentities } from '../../src/tls/identity.js';
import {
  certificateIdentities,
  expectPeerIdentity,
  mutualTls,
  peerIdentities,
  serverTlsOptions,
} from '../../src/tls/index.js';
import { createTestPki, type TestPki } from '../support/certs.js';

describe('service identities in certificates', () => {
  test('URI and DNS SANs are identities; IP SANs and the CN are not', () => {
    expect(
      certificateIdentities({
        subjectaltname: 'DNS:Users.Internal, URI:spiffe://td/ns/a/sa/b, IP Address:127.0.0.1',
      }),
    ).toEqual(['users.internal', 'spiffe://td/ns/a/sa/b']);
    expect(certificateIdentities({ subjectaltname: '' })).toEqual([]);
    expect(certificateIdentities(undefined)).toEqual([]);
  });

  test('arbitrary SAN strings never throw and only yield URI or DNS entries', () => {
    fc.assert(
      fc.property(fc.string(), (san) => {
        const ids = certificateIdentities({ subjectaltname: san });
        expect(ids.length).toBeLessThanOrEqual(san.split(', ').length);
      }),
    );
  });

  test('SPIFFE IDs need the spiffe scheme and a trust domain', () => {
    expect(isSpiffeId('spiffe://prod.example/ns/users/sa/api')).toBe(true);
    expect(isSpiffeId('spiffe://prod.example')).toBe(true);
    expect(isSpiffeId('https://prod.example/x')).toBe(false);
    expect(isSpiffeId('spiffe:///no-domain')).toBe(false);
    expect(isSpiffeId('spiffe://UPPER.case/x')).toBe(false);
  });

  test('configuration problems are listed one per bad identity', () => {
    expect(validateIdentities([], 'users')).toEqual(['users: list at least one expected identity']);
    expect(validateIdentities(['spiffe://td/a', 'not a name!', 'users.internal'], 'users')).toEqual([
      "users: 'not a name!' is neither a SPIFFE ID (spiffe://domain/path) nor a DNS name",
    ]);
  });

  test('the identity check accepts a matching peer and explains a mismatch', () => {
    const check = expectPeerIdentity(['spiffe://td/users']);
    expect(check('10.0.0.1', { subjectaltname: 'URI:spiffe://td/users' } as never)).toBeUndefined();
    const err = check('10.0.0.1', { subjectaltname: 'URI:spiffe://td/billing' } as never);
    expect(isTrellisError(err, ErrorCode.TlsFailed)).toBe(true);
    expect(err?.message).toContain('spiffe://td/billing');
  });
});

test('mutualTls refuses a malformed expected identity when configured', () => {
  expect(() => mutualTls({ ca: 'x', cert: 'x', key: 'x', serverIdentity: 'not an id!' })).toThrow(
    /neither a SPIFFE ID/,
  );
});

describe('the server half of mutual TLS (real certificates)', () => {
  let pki: TestPki;
  let server: https.Server;
  let port: number;

  beforeAll(async () => {
    pki = await createTestPki();
    const leaf = await pki.issue('orders', ['URI:spiffe://td/orders', 'IP:127.0.0.1']);
    server = https.createServer(
      serverTlsOptions({ ca: pki.caCert, cert: leaf.cert, key: leaf.key }),
      (req, res) => {
        res.end(JSON.stringify(peerIdentities(req)));
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server?.close();
    pki?.cleanup();
  });

  test('peerIdentities reports the verified identity of a mesh client', async () => {
    const web = await pki.issue('web', ['URI:spiffe://td/web']);
    const mesh = Mesh.builder()
      .service('orders', (s) =>
        s.discovery(staticEndpoints([`127.0.0.1:${port}`])).transport({
          tls: mutualTls({
            ca: pki.caCert,
            cert: web.cert,
            key: web.key,
            serverIdentity: 'spiffe://td/orders',
          }),
        }),
      )
      .build();
    try {
      const res = await mesh.request({ service: 'orders', path: '/' });
      expect(await res.body.json()).toEqual(['spiffe://td/web']);
    } finally {
      await mesh.close();
    }
  });
});
