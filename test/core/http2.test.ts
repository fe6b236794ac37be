import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh } from '../../src/index.js';
import { type H2Upstream, startH2Upstream } from '../support/h2-upstream.js';

interface Info {
  httpVersion: string;
  method: string;
  headers: Record<string, string>;
}

let server: H2Upstream;

beforeAll(async () => {
  server = await startH2Upstream();
});

afterAll(async () => {
  await server?.stop();
});

function tlsMesh(http2: boolean, ca?: string): Mesh {
  return Mesh.builder()
    .service('secure', (s) =>
      s.discovery(staticEndpoints([`127.0.0.1:${server.port}`])).transport({ http2, tls: ca ? { ca } : {} }),
    )
    .build();
}

describe('transport over TLS against a real node:http2 secure server (certificates made in-process at test time)', () => {
  it('speaks HTTP/2 when transport({ http2: true }) is set, with the service name as :authority', async () => {
    const mesh = tlsMesh(true, server.caCert);
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
    const mesh = tlsMesh(true, server.caCert);
    try {
      const res = await mesh.fetch('http://secure/pipe', { method: 'POST', body: 'over-h2' });
      expect(await res.text()).toBe('over-h2');
    } finally {
      await mesh.close();
    }
  });

  it('stays on HTTP/1.1 over TLS by default, sending the service name as Host', async () => {
    const mesh = tlsMesh(false, server.caCert);
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
      expect((err as Error).message).toMatch(/certificate was not accepted \(.+\).*chains to the CA/);
      expect((err as { details: { requestSent: boolean } }).details.requestSent).toBe(false);
    } finally {
      await mesh.close();
    }
  });
});
