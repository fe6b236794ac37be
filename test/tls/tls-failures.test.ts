import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/index.js';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh, type TrellisError } from '../../src/index.js';
import type { TransportTls } from '../../src/transport/transport-options.js';
import { createTestPki, type IssueOptions, type TestPki } from '../support/certs.js';
import { childOutput } from '../support/child-output.js';
import { type ListenerProcess, startListener } from '../support/listener-process.js';
import { freePort } from '../support/ports.js';
import { stopProcess } from '../support/stop-process.js';
import { describeWithBinaries, OPENSSL } from '../support/system-binary.js';
import { trackedSpawn } from '../support/tracked-spawn.js';
import { until } from '../support/until.js';
import { startUpstream } from '../support/upstreams.js';

// TLS failures are told apart by whose side is at fault (issue 11): an endpoint whose certificate
// fails our checks is that endpoint's failure (TRELLIS_TLS_FAILED: ejected like a failed connect,
// never retried as if it were down), and an endpoint refusing our client certificate is our
// configuration (TRELLIS_TLS_CLIENT_REJECTED: ejects nothing). Real HTTPS upstream processes,
// certificates made in-process.

const TLS_UPSTREAM = fileURLToPath(new URL('../fixtures/tls-upstream.mjs', import.meta.url));

let pki: TestPki;
const running: ListenerProcess[] = [];
let mesh: Mesh | undefined;

beforeAll(async () => {
  pki = await createTestPki();
});

afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
  await Promise.all(running.splice(0).map((u) => u.stop()));
});

afterAll(() => pki?.cleanup());

/** An HTTPS upstream process (it requires a client certificate from the PKI's CA) presenting a certificate made with `cert`. */
async function upstreamWith(name: string, sans: string[], cert: IssueOptions = {}): Promise<ListenerProcess> {
  const leaf = await pki.issue(name, sans, cert);
  const upstream = await startListener(TLS_UPSTREAM, [pki.caCertPath, leaf.certPath, leaf.keyPath, name]);
  running.push(upstream);
  return upstream;
}

/** A mesh with one service over the upstreams, recording retries and ejections. */
function meshOver(upstreams: ListenerProcess[], tls: TransportTls) {
  const retries: string[] = [];
  const ejected: string[] = [];
  mesh = Mesh.builder()
    .service('users', (s) =>
      s
        .discovery(staticEndpoints(upstreams.map((u) => `127.0.0.1:${u.port}`)))
        .balancer(roundRobin())
        .transport({ tls }),
    )
    .build();
  mesh.on('retry', (_service, _attempt, failure) => retries.push(failure));
  mesh.on('endpointEjected', (_service, id) => ejected.push(id));
  return { mesh, retries, ejected };
}

async function clientTls(): Promise<TransportTls> {
  const client = await pki.issue(`client-${running.length}`, ['URI:spiffe://test.trellis/web']);
  return { ca: pki.caCert, cert: client.cert, key: client.key };
}

async function failure(m: Mesh): Promise<TrellisError> {
  const err = await m.request({ service: 'users', path: '/' }).then(
    (res) => {
      throw new Error(`expected a TLS failure, got ${res.statusCode}`);
    },
    (e: unknown) => e,
  );
  if (!isTrellisError(err)) throw err;
  return err;
}

describe("an endpoint's certificate that fails our checks", () => {
  const faults: [string, string[], IssueOptions, RegExp][] = [
    [
      'is for clients only (extendedKeyUsage clientAuth)',
      ['IP:127.0.0.1'],
      { purposes: ['clientAuth'] },
      /INVALID_PURPOSE/,
    ],
    ['has expired', ['IP:127.0.0.1'], { expired: true }, /CERT_HAS_EXPIRED/],
    ['is signed by an unknown CA', ['IP:127.0.0.1'], { ca: 'foreign' }, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/],
    ['names another host', ['DNS:elsewhere.example'], {}, /ERR_TLS_CERT_ALTNAME_INVALID/],
  ];

  it.each(faults)(
    '%s: TRELLIS_TLS_FAILED, not sent, not retried, saying what to check',
    async (_what, sans, cert, code) => {
      const upstream = await upstreamWith('bad', sans, cert);
      const { mesh: m, retries } = meshOver([upstream], await clientTls());
      const err = await failure(m);
      expect(err.code).toBe(ErrorCode.TlsFailed);
      expect(err.details.requestSent).toBe(false);
      expect(err.details.endpoint).toBe(`127.0.0.1:${upstream.port}`);
      expect(err.message).toMatch(code);
      expect(err.message).toMatch(/serverAuth/);
      expect(retries).toEqual([]);
    },
  );

  it('an endpoint that does not speak TLS at all: TRELLIS_TLS_FAILED, saying so', async () => {
    const plainHttp = await startUpstream('plain-http');
    try {
      mesh = Mesh.builder()
        .service('users', (s) =>
          s.discovery(staticEndpoints([plainHttp.address])).transport({ tls: { ca: pki.caCert } }),
        )
        .build();
      const err = await failure(mesh);
      expect(err.code).toBe(ErrorCode.TlsFailed);
      expect(err.details.cause).toBe('ERR_SSL_WRONG_VERSION_NUMBER');
      expect(err.message).toMatch(/did not answer in TLS/);
    } finally {
      await plainHttp.stop();
    }
  });

  it('counts against that endpoint: it is ejected and the endpoint with a good certificate serves', async () => {
    const bad = await upstreamWith('bad', ['IP:127.0.0.1'], { purposes: ['clientAuth'] });
    const good = await upstreamWith('good', ['IP:127.0.0.1']);
    const { mesh: m, ejected } = meshOver([bad, good], await clientTls());
    const served: string[] = [];
    for (let i = 0; i < 20 && ejected.length === 0; i++) {
      const res = await m.request({ service: 'users', path: '/' }).catch((e: unknown) => e);
      if (isTrellisError(res)) expect(res.code).toBe(ErrorCode.TlsFailed);
      else served.push((await (res as { body: { json(): Promise<{ name: string }> } }).body.json()).name);
    }
    await until(() => ejected.length > 0, 'the endpoint with the clients-only certificate to be ejected');
    expect(ejected).toEqual([`127.0.0.1:${bad.port}`]);
    expect(served.every((name) => name === 'good')).toBe(true);
  });
});

describe('an endpoint refusing our client certificate (TLS 1.3: the alert comes after the handshake)', () => {
  it('is TRELLIS_TLS_CLIENT_REJECTED, not retried, and ejects no endpoint', async () => {
    const a = await upstreamWith('a', ['IP:127.0.0.1']);
    const b = await upstreamWith('b', ['IP:127.0.0.1']);
    // No client certificate: each upstream, which requires one, answers with certificate_required.
    const { mesh: m, retries, ejected } = meshOver([a, b], { ca: pki.caCert });
    for (let i = 0; i < 12; i++) {
      const err = await failure(m);
      expect(err.code).toBe(ErrorCode.TlsClientRejected);
      expect(err.details.cause).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      expect(err.details.requestSent).toBe(false);
      expect(err.message).toMatch(/refused our client certificate/);
    }
    expect(retries).toEqual([]);
    expect(ejected).toEqual([]);
  });
});

// Node's server checks a client certificate after the handshake and closes without an alert, so
// only a missing certificate gets one there; OpenSSL's server (as nginx, Envoy and Go servers do)
// answers each bad client certificate with its own alert.
describeWithBinaries([OPENSSL], 'an OpenSSL server refusing our client certificate with an alert', () => {
  const servers: ChildProcess[] = [];
  let ports: number[] = [];

  beforeAll(async () => {
    const leaf = await pki.issue('openssl-server', ['IP:127.0.0.1']);
    ports = [await freePort(), await freePort()];
    for (const port of ports) {
      const server = trackedSpawn(
        'openssl',
        ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', leaf.certPath, '-key', leaf.keyPath].concat([
          '-CAfile',
          pki.caCertPath,
          '-Verify',
          '1',
          '-verify_return_error',
          '-www',
          '-tls1_3',
        ]),
        { stdio: ['pipe', 'pipe', 'ignore'] },
      );
      servers.push(server);
      await childOutput(server, server.stdout!, /ACCEPT/, 'openssl s_server');
    }
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => stopProcess(server)));
  });

  // OpenSSL 3.2 and later (Node 24) name the SSLv3-era alerts ERR_SSL_SSL/TLS_ALERT_...
  const clients: [string, IssueOptions, RegExp][] = [
    ['signed by a CA it does not trust', { ca: 'foreign' }, /^ERR_SSL_TLSV1_ALERT_UNKNOWN_CA$/],
    [
      'for servers only (extendedKeyUsage serverAuth)',
      { purposes: ['serverAuth'] },
      /^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_UNSUPPORTED_CERTIFICATE$/,
    ],
  ];

  it.each(clients)(
    'a client certificate %s: TRELLIS_TLS_CLIENT_REJECTED, no retry, no ejection',
    async (_what, options, alert) => {
      const client = await pki.issue(
        `openssl-client-${options.ca ?? 'own'}-${options.purposes ?? 'both'}`,
        ['URI:spiffe://test.trellis/web'],
        options,
      );
      const retries: string[] = [];
      const ejected: string[] = [];
      mesh = Mesh.builder()
        .service('users', (s) =>
          s
            .discovery(staticEndpoints(ports.map((port) => `127.0.0.1:${port}`)))
            .balancer(roundRobin())
            .transport({ tls: { ca: pki.caCert, cert: client.cert, key: client.key } }),
        )
        .build();
      mesh.on('retry', (_service, _attempt, failure) => retries.push(failure));
      mesh.on('endpointEjected', (_service, id) => ejected.push(id));
      for (let i = 0; i < 12; i++) {
        const err = await failure(mesh);
        expect(err.code).toBe(ErrorCode.TlsClientRejected);
        expect(err.details.cause).toMatch(alert);
      }
      expect(retries).toEqual([]);
      expect(ejected).toEqual([]);
    },
  );
});
