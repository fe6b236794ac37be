import { Agent } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { etcdEndpoints } from '../../src/discovery/etcd/etcd-resolver.js';
import { createTestPki, type TestLeaf, type TestPki } from '../support/certs.js';
import { runResolver, until } from '../support/discovery.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';

/** A real etcd serving its clients over TLS and requiring their certificates (mutual TLS). */
describeWithBinaries([ETCD], 'etcd client over mutual TLS, against a real etcd', () => {
  let pki: TestPki;
  let clientCert: TestLeaf;
  let etcd: EtcdServer;
  let url: string;
  beforeAll(async () => {
    pki = await createTestPki();
    const server = await pki.issue('etcd', ['IP:127.0.0.1']);
    clientCert = await pki.issue('client', ['URI:spiffe://test/client']);
    etcd = await startEtcd({ pki, server, client: clientCert });
    url = etcd.url;
  });
  afterAll(async () => {
    await etcd?.destroy();
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
