import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TrellisError } from '../../src/core/errors.js';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { etcdRules } from '../../src/routing/etcd-rules.js';
import type { RulesSource } from '../../src/routing/rules-source.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { nextEvent } from '../support/next-event.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

const KEY = '/trellis/routes';
let etcd: EtcdServer;
let client: EtcdClient;
let v1: Upstream;
let v2: Upstream;
let source: RulesSource;
let mesh: Mesh;

function split(v1Weight: number, v2Weight: number): string {
  return JSON.stringify({
    services: {
      users: {
        routes: [
          {
            split: [
              { backend: 'users', weight: v1Weight },
              { backend: 'users-v2', weight: v2Weight },
            ],
          },
        ],
      },
    },
  });
}

async function whoAnswers(): Promise<string> {
  const { headers, body } = await mesh.request({ service: 'users', path: '/' });
  await body.dump();
  return String(headers['x-upstream']);
}

describeWithBinaries([ETCD], 'rules from an etcd key (real etcd)', () => {
  beforeAll(async () => {
    [etcd, [v1, v2]] = (await Promise.all([startEtcd(), startUpstreams('v1', 'v2')])) as [
      EtcdServer,
      [Upstream, Upstream],
    ];
    client = new EtcdClient({ endpoints: [etcd.url] });
    await client.put(KEY, split(0, 100));
    // A neighbouring key the prefix watch also sees; it must be ignored.
    await client.put(`${KEY}-old`, 'not: [rules');
    source = etcdRules({ endpoints: [etcd.url] });
    mesh = Mesh.builder()
      .rules(source)
      .service('users', (s) => s.discovery(staticEndpoints([v1.address])))
      .service('users-v2', (s) => s.discovery(staticEndpoints([v2.address])))
      .build();
    await source.loaded();
  }, 30_000);

  afterAll(async () => {
    await mesh?.close();
    await client?.close();
    await Promise.all([etcd?.destroy(), v1?.stop(), v2?.stop()]);
  });
  it('applies the rules stored under the key once loaded', async () => {
    expect(await whoAnswers()).toBe('v2');
  });

  it('applies a write to the key without a restart', async () => {
    const applied = nextEvent(source, 'applied');
    await client.put(KEY, split(100, 0));
    await applied;
    expect(await whoAnswers()).toBe('v1');
  });

  it('rejects an invalid value, keeps the previous rules, and ignores neighbouring keys', async () => {
    const rejected = nextEvent(source, 'rejected');
    await client.put(`${KEY}-old`, 'still: [not rules');
    await client.put(KEY, JSON.stringify({ services: { users: { routes: [{ backend: 'users-v9' }] } } }));
    expect(((await rejected)[0] as TrellisError).message).toMatch(/etcd key \/trellis\/routes.*'users-v9'/s);
    expect(await whoAnswers()).toBe('v1');
  });

  it('drops every rule when the key is deleted', async () => {
    const first = nextEvent(source, 'applied');
    await client.put(KEY, split(0, 100));
    await first;
    const applied = nextEvent(source, 'applied');
    await client.delete(KEY);
    await applied;
    expect(source.table.services).toEqual({});
    expect(await whoAnswers()).toBe('v1');
  });
});
