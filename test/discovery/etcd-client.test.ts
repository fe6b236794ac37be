import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EtcdEvent, EtcdKeyValue } from '../../src/discovery/etcd/codec.js';
import { EtcdClient, etcdCall } from '../../src/discovery/etcd/etcd-client.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { freePort } from '../support/ports.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';
import { until } from '../support/until.js';

/** Follows a prefix the way a consumer should: snapshot replaces, events patch. */
function follower() {
  const state = new Map<string, string>();
  const revisions: number[] = [];
  const errors: Error[] = [];
  let snapshots = 0;
  return {
    state,
    revisions,
    errors,
    get snapshots() {
      return snapshots;
    },
    handlers: {
      onSnapshot(kvs: EtcdKeyValue[]) {
        snapshots++;
        state.clear();
        for (const kv of kvs) state.set(kv.key, kv.value);
      },
      onEvents(events: EtcdEvent[]) {
        for (const event of events) {
          revisions.push(event.kv.modRevision);
          if (event.type === 'put') state.set(event.kv.key, event.kv.value);
          else state.delete(event.kv.key);
        }
      },
      onError(err: Error) {
        errors.push(err);
      },
    },
  };
}

describeWithBinaries([ETCD], 'etcd client against a real etcd', () => {
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

  it('puts, gets, ranges over a prefix and deletes, without leaking past the prefix', async () => {
    await client.put('/kv/a/1', 'one');
    await client.put('/kv/a/2', 'two');
    await client.put('/kv/a0', 'outside');
    expect((await client.get('/kv/a/1'))?.value).toBe('one');
    expect(await client.get('/kv/missing')).toBeUndefined();
    const range = await client.range('/kv/a/');
    expect(range.kvs.map((kv) => [kv.key, kv.value])).toEqual([
      ['/kv/a/1', 'one'],
      ['/kv/a/2', 'two'],
    ]);
    expect(range.revision).toBeGreaterThan(0);
    expect((await client.delete('/kv/a/', { prefix: true })).deleted).toBe(2);
    expect((await client.range('/kv/a/')).kvs).toEqual([]);
    expect((await client.get('/kv/a0'))?.value).toBe('outside');
  });

  it('keeps UTF-8 keys and values intact', async () => {
    await client.put('/kv/ünï/ключ', 'värde ✓');
    const kv = await client.get('/kv/ünï/ключ');
    expect(kv?.value).toBe('värde ✓');
    expect((await client.range('/kv/ünï/')).kvs.map((k) => k.key)).toEqual(['/kv/ünï/ключ']);
  });

  it('watches a prefix: a snapshot first, then every change in revision order', async () => {
    await client.put('/w1/a', '1');
    const f = follower();
    const watch = client.watch('/w1/', f.handlers);
    await until(() => f.snapshots === 1, 'the snapshot');
    expect([...f.state]).toEqual([['/w1/a', '1']]);
    await client.put('/w1/b', '2');
    await client.put('/w1/a', '3');
    await client.delete('/w1/b');
    await client.put('/w2/ignored', 'x');
    await until(() => f.revisions.length === 3, 'three events');
    expect([...f.state]).toEqual([['/w1/a', '3']]);
    expect(f.revisions).toEqual([...f.revisions].sort((x, y) => x - y));
    await watch.close();
  });

  it('resumes a watch after an etcd restart without missing or repeating a change', async () => {
    const f = follower();
    const watch = client.watch('/restart/', f.handlers, { minBackoffMs: 50, maxBackoffMs: 200 });
    await until(() => f.snapshots === 1, 'the snapshot');
    await client.put('/restart/a', 'before');
    await until(() => f.state.get('/restart/a') === 'before', 'the first event');
    await etcd.stop();
    await until(() => f.errors.length > 0, 'the watch to notice the outage');
    await etcd.restart();
    // Written as soon as etcd is back, racing the watch's reconnection: either way, the watch
    // resumes from its revision and sees each change exactly once.
    await client.put('/restart/b', 'after');
    await client.put('/restart/a', 'changed');
    await until(
      () => f.state.get('/restart/a') === 'changed' && f.state.has('/restart/b'),
      'changes after restart',
    );
    expect(new Set(f.revisions).size).toBe(f.revisions.length);
    expect(f.snapshots).toBe(1);
    await watch.close();
  });

  it('notices a frozen etcd behind a silent watch stream, says so, and catches up once it answers again', async () => {
    const f = follower();
    const watch = client.watch('/frozen/', f.handlers, {
      livenessCheckMs: 150,
      minBackoffMs: 50,
      maxBackoffMs: 200,
    });
    await until(() => f.snapshots === 1, 'the snapshot');
    etcd.pause();
    try {
      // The check fails after the client's 2 s timeout, which undici's coarse timers may stretch
      // by a second; on a busy machine that took more than 8 s once, so allow 20 s.
      await until(
        () => f.errors.some((e) => /silent and etcd did not answer a check/.test(e.message)),
        'the check',
        20_000,
      );
    } finally {
      etcd.resume();
    }
    await client.put('/frozen/a', 'after');
    await until(() => f.state.get('/frozen/a') === 'after', 'the change after the freeze');
    await watch.close();
  }, 40_000);

  it('resyncs from a fresh snapshot when the revisions it missed were compacted', async () => {
    const first = await client.put('/compact/a', '1');
    await client.put('/compact/a', '2');
    const last = await client.put('/compact/b', '3');
    await client.delete('/compact/a');
    await etcdCall(client, '/v3/kv/compaction', { revision: last.revision });
    const f = follower();
    const watch = client.watch('/compact/', f.handlers, { startRevision: first.revision });
    await until(() => f.snapshots === 1, 'a resync snapshot');
    expect([...f.state]).toEqual([['/compact/b', '3']]);
    await client.put('/compact/c', '4');
    await until(() => f.state.has('/compact/c'), 'the event after the resync');
    await watch.close();
  });

  it('keeps a lease alive past its TTL, and revoking it deletes its keys', async () => {
    const lease = await client.lease(2);
    await client.put('/lease/alive', 'yes', { lease: lease.id });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await client.get('/lease/alive'))?.lease).toBe(lease.id);
    await lease.revoke();
    expect(await client.get('/lease/alive')).toBeUndefined();
  });

  it('lets the keys of a lease that is no longer renewed expire', async () => {
    const lease = await client.lease(2);
    await client.put('/lease/orphan', 'yes', { lease: lease.id });
    await lease.close();
    const gone = Date.now() + 8000;
    while ((await client.get('/lease/orphan')) !== undefined) {
      expect(Date.now()).toBeLessThan(gone);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('reports a lease lost when etcd says it no longer exists', async () => {
    let lost = 0;
    const lease = await client.lease(2, { onLost: () => lost++ });
    await client.leaseRevoke(lease.id); // as if it had expired behind our back
    await until(() => lost === 1, 'onLost');
    expect(lease.lost).toBe(true);
    await lease.revoke(); // no second revoke is sent for a lost lease
  });

  it('fails with a clear error when no member can be reached, and closes cleanly', async () => {
    const dead = new EtcdClient({ endpoints: [`http://127.0.0.1:${await freePort()}`], timeoutMs: 500 });
    await expect(dead.get('/x')).rejects.toThrow(/No etcd member could be reached/);
    const f = follower();
    dead.watch('/x/', f.handlers, { minBackoffMs: 20, maxBackoffMs: 50 });
    await until(() => f.errors.length >= 2, 'retries');
    await dead.close();
    const errorsAtClose = f.errors.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(f.errors.length).toBe(errorsAtClose);
    await expect(dead.get('/x')).rejects.toThrow(/closed/);
  });

  it('fails over to the next member when the first cannot be reached', async () => {
    const both = new EtcdClient({ endpoints: [`http://127.0.0.1:${await freePort()}`, etcd.url] });
    await both.put('/failover/k', 'v');
    expect((await both.get('/failover/k'))?.value).toBe('v');
    await both.close();
  });

  it('rejects invalid options with every problem named', () => {
    expect(() => new EtcdClient({ endpoints: ['127.0.0.1:2379'], timeoutMs: -1 })).toThrow(
      /not an etcd client URL.*timeoutMs/,
    );
    expect(() => new EtcdClient({ endpoints: [] })).toThrow(/at least one etcd URL/);
  });
});
