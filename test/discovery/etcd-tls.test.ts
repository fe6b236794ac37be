import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { etcdEndpoints } from '../../src/discovery/etcd/etcd-resolver.js';
import { createTestPki, type TestLeaf, type TestPki } from '../support/certs.js';
import { forgetPid, killOnExit, removeOnExit } from '../support/cleanup.js';
import { runResolver, until } from '../support/discovery.js';
import { freePort } from '../support/ports.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';

/** A real etcd serving its clients over TLS and requiring their certificates (mutual TLS). */
describeWithBinaries([ETCD], 'etcd client over mutual TLS, against a real etcd', () => {
  let pki: TestPki;
  let clientCert: TestLeaf;
  let etcd: ChildProcess;
  let url: string;
  let dataDir: string;
  beforeAll(async () => {
    pki = await createTestPki();
    const server = await pki.issue('etcd', ['IP:127.0.0.1']);
    clientCert = await pki.issue('client', ['URI:spiffe://test/client']);
    dataDir = mkdtempSync(join(tmpdir(), 'trellis-etcd-tls-'));
    removeOnExit(dataDir);
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    url = `https://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    etcd = spawn(
      'etcd',
      [
        '--name=tls',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=tls=${peer}`,
        `--cert-file=${server.certPath}`,
        `--key-file=${server.keyPath}`,
        `--trusted-ca-file=${pki.caCertPath}`,
        '--client-cert-auth',
        '--log-level=error',
      ],
      { stdio: 'ignore' },
    );
    killOnExit(etcd.pid);
    etcd.once('exit', () => forgetPid(etcd.pid));
    const probe = new Agent({ connect: { ca: pki.caCert, cert: clientCert.cert, key: clientCert.key } });
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          const res = await request(`${url}/health`, { dispatcher: probe });
          if (res.statusCode === 200 && /"true"/.test(await res.body.text())) break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await probe.close();
    }
  });
  afterAll(async () => {
    if (etcd && etcd.exitCode === null) {
      const exited = once(etcd, 'exit');
      process.kill(etcd.pid!, 'SIGKILL');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    pki?.cleanup();
  });

  it('reads, writes and watches through a dispatcher carrying the CA and the client certificate', async () => {
    const dispatcher = new Agent({ connect: { ca: pki.caCert, cert: clientCert.cert, key: clientCert.key } });
    const client = new EtcdClient({ endpoints: [url], dispatcher });
    try {
      await client.put('/tls/api/a', JSON.stringify({ host: '127.0.0.1', port: 3001 }));
      const run = runResolver(etcdEndpoints({ etcd: client, prefix: '/tls/', updates: { debounceMs: 10 } }));
      await until(() => run.current().length === 1, 'the entry over TLS');
      await client.put('/tls/api/b', JSON.stringify({ host: '127.0.0.1', port: 3002 }));
      await until(() => run.current().length === 2, 'the watched change over TLS');
      await run.close();
    } finally {
      await client.close();
      await dispatcher.close();
    }
  });

  it('fails clearly without a client certificate', async () => {
    const dispatcher = new Agent({ connect: { ca: pki.caCert } });
    const client = new EtcdClient({ endpoints: [url], dispatcher, timeoutMs: 2000 });
    try {
      await expect(client.get('/tls/api/a')).rejects.toThrow(/No etcd member could be reached|certificate/);
    } finally {
      await client.close();
      await dispatcher.close();
    }
  });
});
