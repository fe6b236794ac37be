import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh } from '../../src/index.js';
import { makeCertificate, type TestCertificate } from './support/certificate.js';
import { type FixtureServer, fixture, startFixture } from './support/processes.js';

interface Info {
  httpVersion: string;
  method: string;
  headers: Record<string, string>;
}

let certificate: TestCertificate;
let server: FixtureServer;

beforeAll(async () => {
  certificate = makeCertificate();
  server = await startFixture(fixture('pipe-upstream.mjs'), [
    'h2',
    certificate.certFile,
    certificate.keyFile,
  ]);
});

afterAll(async () => {
  await server?.stop();
  certificate?.remove();
});

function tlsMesh(http2: boolean, ca?: Buffer): Mesh {
  return Mesh.builder()
    .service('secure', (s) =>
      s.discovery(staticEndpoints([server.address])).transport({ http2, tls: ca ? { ca } : {} }),
    )
    .build();
}

describe('transport over TLS against a real node:http2 secure server', () => {
  it('speaks HTTP/2 when transport({ http2: true }) is set, with the service name as :authority', async () => {
    const mesh = tlsMesh(true, certificate.cert);
    try {
      const res = await mesh.request({ service: 'secure', path: '/info' });
      const info = (await res.body.json()) as Info;
      expect(info.httpVersion).toBe('2.0');
      expect(info.headers[':authority']).toBe('secure');
    } finally {
      await mesh.close();
    }
  });

  it('carries a fetch request body over HTTP/2 and reads the piped answer from the upstream', async () => {
    const mesh = tlsMesh(true, certificate.cert);
    try {
      const res = await mesh.fetch('http://secure/pipe', { method: 'POST', body: 'over-h2' });
      expect(await res.text()).toBe('over-h2');
    } finally {
      await mesh.close();
    }
  });

  it('stays on HTTP/1.1 over TLS by default, sending the service name as Host', async () => {
    const mesh = tlsMesh(false, certificate.cert);
    try {
      const info = (await (await mesh.request({ service: 'secure', path: '/info' })).body.json()) as Info;
      expect(info.httpVersion).toBe('1.1');
      expect(info.headers.host).toBe('secure');
    } finally {
      await mesh.close();
    }
  });

  it('fails with TRELLIS_TLS_FAILED, marked as not sent, when the certificate is not trusted', async () => {
    const mesh = tlsMesh(true);
    try {
      const err = await mesh.request({ service: 'secure', path: '/info' }).catch((e: unknown) => e);
      expect(isTrellisError(err, ErrorCode.TlsFailed)).toBe(true);
      expect((err as Error).message).toMatch(/tls\.ca trusts the certificate/);
      expect((err as { details: { requestSent: boolean } }).details.requestSent).toBe(false);
    } finally {
      await mesh.close();
    }
  });
});
