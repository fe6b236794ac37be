import { afterAll, beforeAll, expect, it } from 'vitest';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { etcdEndpoints } from '../../src/discovery/etcd/etcd-resolver.js';
import { runResolver, until } from '../support/discovery.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';

/** One call to etcd's JSON gateway as an administrator would make it. */
async function admin(
  url: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: token === undefined ? {} : { authorization: token },
  });
  const reply = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(reply)}`);
  return reply;
}

describeWithBinaries([ETCD], 'etcd client against a real etcd with authentication enabled', () => {
  let etcd: EtcdServer;
  let rootToken: string;
  beforeAll(async () => {
    etcd = await startEtcd();
    await admin(etcd.url, '/v3/auth/role/add', { name: 'root' });
    await admin(etcd.url, '/v3/auth/user/add', { name: 'root', password: 'root-pw' });
    await admin(etcd.url, '/v3/auth/user/grant', { user: 'root', role: 'root' });
    await admin(etcd.url, '/v3/auth/user/add', { name: 'svc', password: 'svc-pw' });
    await admin(etcd.url, '/v3/auth/user/grant', { user: 'svc', role: 'root' });
    await admin(etcd.url, '/v3/auth/enable', {});
    rootToken = (await admin(etcd.url, '/v3/auth/authenticate', { name: 'root', password: 'root-pw' }))
      .token as string;
  });
  afterAll(async () => {
    await etcd?.destroy();
  });

  it('authenticates, watches with its token, and takes a new token when etcd revokes the old one', async () => {
    const client = new EtcdClient({ endpoints: [etcd.url], auth: { username: 'svc', password: 'svc-pw' } });
    try {
      await client.put('/auth/api/a', JSON.stringify({ host: '127.0.0.1', port: 3001 }));
      const run = runResolver(etcdEndpoints({ etcd: client, prefix: '/auth/', updates: { debounceMs: 10 } }));
      await until(() => run.current().length === 1, 'the entry, read and watched with a token');
      // Setting the password again revokes the user's tokens.
      await admin(etcd.url, '/v3/auth/user/changepw', { name: 'svc', password: 'svc-pw' }, rootToken);
      expect((await client.get('/auth/api/a'))?.value).toMatch(/3001/);
      await client.put('/auth/api/b', JSON.stringify({ host: '127.0.0.1', port: 3002 }));
      await until(() => run.current().length === 2, 'the change, through the watch opened before');
      await run.close();
    } finally {
      await client.close();
    }
  });

  it('says what to do without credentials or with a wrong password', async () => {
    const anonymous = new EtcdClient({ endpoints: [etcd.url] });
    const wrong = new EtcdClient({ endpoints: [etcd.url], auth: { username: 'svc', password: 'nope' } });
    try {
      await expect(anonymous.get('/auth/api/a')).rejects.toThrow(/give auth \{ username, password \}/);
      await expect(wrong.get('/auth/api/a')).rejects.toThrow(/authentication failed/);
    } finally {
      await Promise.all([anonymous.close(), wrong.close()]);
    }
    expect(EtcdClient.validate({ endpoints: [etcd.url], auth: { username: 'svc' } as never })).toHaveLength(
      1,
    );
  });
});
