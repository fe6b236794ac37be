import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { etcdEndpoints } from '../../src/discovery/etcd/etcd-resolver.js';
import { registerEndpoint } from '../../src/discovery/etcd/registration.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { runResolver, until } from '../support/discovery.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

const FAST = { debounceMs: 10, emptySetGraceMs: 500 };

describeWithBinaries([ETCD], 'etcd resolver and registration against a real etcd', () => {
  let etcd: EtcdServer;
  let client: EtcdClient;
  beforeAll(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: [etcd.url], timeoutMs: 2000 });
  });
  afterAll(async () => {
    await client?.close();
    await etcd?.destroy();
  });

  it('publishes what instances register, with weight, zone and metadata, and follows deregistration', async () => {
    const run = runResolver(etcdEndpoints({ etcd: client, prefix: '/t1/', updates: FAST }));
    const a = await registerEndpoint({
      etcd: client,
      prefix: '/t1/',
      service: 'api',
      endpoint: { host: '127.0.0.1', port: 3001 },
    });
    const b = await registerEndpoint({
      etcd: client,
      prefix: '/t1/',
      service: 'api',
      endpoint: { host: '::1', port: 3002, weight: 2, zone: 'z1', metadata: { version: '7' } },
    });
    const other = await registerEndpoint({
      etcd: client,
      prefix: '/t1/',
      service: 'other',
      endpoint: { host: '127.0.0.1', port: 9 },
    });
    await until(() => run.current().length === 2, 'both registrations');
    expect(run.applied.at(-1)!.find((ep) => ep.port === 3002)).toMatchObject({
      id: '[::1]:3002',
      weight: 2,
      zone: 'z1',
      metadata: { version: '7' },
    });
    expect(a.key).toBe('/t1/api/127.0.0.1:3001');
    await a.close();
    await until(() => run.current().join() === '[::1]:3002', 'the deregistration');
    await Promise.all([b.close(), other.close()]);
    await run.close();
  });

  it('drops the entry of an instance that stops renewing its lease, as when it dies', async () => {
    const run = runResolver(
      etcdEndpoints({ etcd: client, prefix: '/t2/', updates: { ...FAST, emptySetGraceMs: 0 } }),
    );
    const doomed = new EtcdClient({ endpoints: [etcd.url] });
    await registerEndpoint({
      etcd: doomed,
      prefix: '/t2/',
      service: 'api',
      endpoint: { host: '127.0.0.1', port: 3001 },
      ttlSeconds: 2,
    });
    await until(() => run.current().length === 1, 'the registration');
    await doomed.close(); // keep-alives stop, the lease is not revoked
    const late = await registerEndpoint({
      etcd: client,
      prefix: '/t2/',
      service: 'late',
      endpoint: { host: '127.0.0.1', port: 3002 },
      ttlSeconds: 2,
    });
    await until(() => run.current().length === 0, 'the lease to expire', 10_000);
    await run.close();
    // Deregistering while etcd is out of reach says what happens to the entry.
    await etcd.stop();
    await expect(late.close()).rejects.toThrow(
      /Could not deregister \/t2\/late\/127\.0\.0\.1:3002.*within 2 s/,
    );
    await etcd.restart();
  });

  it('writes its entry again under a new lease when the old lease is lost', async () => {
    const reg = await registerEndpoint({
      etcd: client,
      prefix: '/t8/',
      service: 'api',
      endpoint: { host: '127.0.0.1', port: 3001 },
      ttlSeconds: 2,
    });
    const first = reg.leaseId!;
    await client.leaseRevoke(first); // as if etcd had been out of reach for longer than the TTL
    await until(() => reg.leaseId !== first, 'a new lease');
    const entry = await client.get(reg.key);
    expect(entry?.lease).toBe(reg.leaseId);
    await reg.close();
    expect(await client.get(reg.key)).toBeUndefined();
  });

  it('refuses a malformed registration alone, naming the key, while other keys keep changing', async () => {
    const run = runResolver(etcdEndpoints({ etcd: client, prefix: '/t3/', updates: FAST }));
    await client.put('/t3/api/good', JSON.stringify({ host: '127.0.0.1', port: 3001 }));
    await until(() => run.current().length === 1, 'the good entry');
    await client.put('/t3/api/bad', '{"host": "127.0.0.1", "port": "eighty"}');
    await until(() => run.errors.length === 1, 'the error');
    expect(isTrellisError(run.errors[0], ErrorCode.InvalidDiscoveryData)).toBe(true);
    expect(run.errors[0]!.message).toMatch(/\/t3\/api\/bad/);
    await client.put('/t3/api/new', JSON.stringify({ host: '127.0.0.1', port: 3003 }));
    await until(() => run.current().length === 2, 'the next good entry, despite the bad one');
    expect(run.current()).toEqual(['127.0.0.1:3001', '127.0.0.1:3003']);
    // A good entry overwritten with garbage (or an oversized value) keeps its last good endpoint.
    await client.put('/t3/api/good', 'not json');
    await client.put(
      '/t3/api/new',
      JSON.stringify({ host: '127.0.0.1', port: 3003, pad: 'x'.repeat(20_000) }),
    );
    await until(() => run.errors.length === 3, 'both rejections');
    expect(run.errors[1]!.message).toMatch(/etcd key \/t3\/api\/good/);
    expect(run.errors[2]!.message).toMatch(/more than the 16384 allowed/);
    expect(run.current()).toEqual(['127.0.0.1:3001', '127.0.0.1:3003']);
    await client.delete('/t3/api/good');
    await until(() => run.current().join() === '127.0.0.1:3003', 'the deletion of the once-good key');
    await run.close();
  });

  it('holds back the loss of the last registration for the grace period', async () => {
    const run = runResolver(etcdEndpoints({ etcd: client, prefix: '/t4/', updates: FAST }));
    await client.put('/t4/api/a', JSON.stringify({ host: '127.0.0.1', port: 3001 }));
    await until(() => run.current().length === 1, 'the entry');
    await client.delete('/t4/api/a');
    await until(() => run.guard.holdingEmptySet, 'the hold');
    expect(run.current()).toEqual(['127.0.0.1:3001']);
    await until(() => run.current().length === 0, 'the grace to end');
    await run.close();
  });

  it('survives an etcd restart during the watch and sees the changes made after it', async () => {
    const run = runResolver(
      etcdEndpoints({
        etcd: { endpoints: [etcd.url], timeoutMs: 500 },
        prefix: '/t5/',
        reconnect: { minBackoffMs: 50, maxBackoffMs: 300 },
        updates: FAST,
      }),
    );
    await client.put('/t5/api/a', JSON.stringify({ host: '127.0.0.1', port: 3001 }));
    await until(() => run.current().length === 1, 'the entry');
    await etcd.stop();
    await until(() => run.errors.length > 0, 'the outage to be reported');
    expect(run.current()).toEqual(['127.0.0.1:3001']);
    await etcd.restart();
    await client.put('/t5/api/b', JSON.stringify({ host: '127.0.0.1', port: 3002 }));
    await client.delete('/t5/api/a');
    await until(() => run.current().join() === '127.0.0.1:3002', 'the changes after the restart', 12_000);
    await run.close();
  });

  it('stops its watch and its own client on close', async () => {
    const run = runResolver(
      etcdEndpoints({ etcd: { endpoints: [etcd.url] }, prefix: '/t6/', updates: FAST }),
    );
    await client.put('/t6/api/a', JSON.stringify({ host: '127.0.0.1', port: 3001 }));
    await until(() => run.current().length === 1, 'the entry');
    await run.close();
    await client.put('/t6/api/b', JSON.stringify({ host: '127.0.0.1', port: 3002 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(run.current()).toEqual(['127.0.0.1:3001']);
  });

  it('rejects invalid options and registrations clearly', async () => {
    expect(etcdEndpoints({ etcd: { endpoints: ['nope'] }, prefix: '' }).validate?.()).toHaveLength(2);
    await expect(
      registerEndpoint({ etcd: client, service: 'api', endpoint: { host: 'bad host', port: 1 } }),
    ).rejects.toThrow(/Cannot register/);
    await expect(
      registerEndpoint({
        etcd: client,
        service: 'api',
        endpoint: { host: '127.0.0.1', port: 1 },
        ttlSeconds: 1,
      }),
    ).rejects.toThrow(/ttlSeconds/);
  });

  describe('feeding a real mesh', () => {
    let upstreams: Upstream[];
    beforeAll(async () => {
      upstreams = await startUpstreams('one', 'two');
    });
    afterAll(async () => {
      await Promise.all(upstreams.map((u) => u.stop()));
    });

    it('routes to registered instances and drains, not cuts, one that deregisters', async () => {
      const mesh = Mesh.builder()
        // Round robin, so that four requests reach both instances.
        .service('api', (s) =>
          s.discovery(etcdEndpoints({ etcd: client, prefix: '/t7/', updates: FAST })).balancer(roundRobin()),
        )
        .build();
      try {
        const regs = await Promise.all(
          upstreams.map((u) =>
            registerEndpoint({
              etcd: client,
              prefix: '/t7/',
              service: 'api',
              endpoint: { host: '127.0.0.1', port: u.port },
            }),
          ),
        );
        await until(() => mesh.snapshot('api').length === 2, 'both endpoints in the mesh');
        const names = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const res = await mesh.request({ service: 'api', method: 'GET', path: '/echo' });
          names.add(((await res.body.json()) as { name: string }).name);
        }
        expect(names).toEqual(new Set(['one', 'two']));
        // A slow request on each endpoint, then one instance deregisters mid-request.
        const slow = [0, 1].map(() =>
          mesh.request({ service: 'api', method: 'GET', path: '/slow?ms=400' }).then((r) => r.body.text()),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        await regs[0]!.close();
        await until(() => mesh.snapshot('api').length === 1, 'the deregistration');
        const bodies = await Promise.all(slow);
        expect(bodies.sort()).toEqual(['slow one', 'slow two']);
        const after = await mesh.request({ service: 'api', method: 'GET', path: '/echo' });
        expect(((await after.body.json()) as { name: string }).name).toBe('two');
        await regs[1]!.close();
      } finally {
        await mesh.close();
      }
    });
  });
});
