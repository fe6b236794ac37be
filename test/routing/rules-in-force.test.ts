import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { etcdRules } from '../../src/routing/etcd-rules.js';
import { fileRules } from '../../src/routing/file-rules.js';
import { routes } from '../../src/routing/route-layer.js';
import type { RulesSource } from '../../src/routing/rules-source.js';
import { metrics } from '../../src/telemetry/metrics-layer.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';
import { scrape, total } from '../telemetry/scrape.js';

const P = 'trellis_client_';

/** The rules document: all of `users` split between its own endpoints and `users-v2`. */
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

interface RulesView {
  source: string;
  version: number;
  origin: string;
  appliedAt: string;
  routes: Array<{ split: Array<{ backend: string; weight: number }> }>;
  applied: number;
  rejected: number;
  lastRejection: string | null;
}

interface ServicesDoc {
  services: Array<{ name: string; rules: RulesView | null }>;
  changes: Array<{ service: string; kind: string; detail: string }>;
}

let v1: Upstream;
let v2: Upstream;
beforeAll(async () => {
  [v1, v2] = (await startUpstreams('rules-v1', 'rules-v2')) as [Upstream, Upstream];
});
afterAll(async () => {
  await Promise.all([v1?.stop(), v2?.stop()]);
});

/** A mesh with metrics and an admin endpoint, its services following `source`. */
async function build(source: RulesSource) {
  const registry = new Registry();
  const mesh = Mesh.builder()
    .stack(metrics({ registry }).install)
    .rules(source)
    .service('users', (s) => s.discovery(staticEndpoints([v1.address])))
    .service('users-v2', (s) => s.discovery(staticEndpoints([v2.address])))
    .build();
  const admin = await mesh.admin({ port: 0 });
  const services = async (): Promise<ServicesDoc> =>
    (await (await fetch(`${admin.url}services`)).json()) as ServicesDoc;
  const rulesOf = async (service: string) =>
    (await services()).services.find((s) => s.name === service)?.rules;
  return { mesh, registry, services, rulesOf };
}

describe('the routing rules in force and their version, from a real rules file', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-rules-in-force-'));
    file = join(dir, 'routes.json');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Replaces the file the way deploy tools do: write a temporary file, then rename it over. */
  function publish(text: string): void {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }

  it('shows each version in /services and the metrics, and counts applied and rejected updates', async () => {
    publish(split(100, 0));
    const source = fileRules(file);
    const { mesh, registry, services, rulesOf } = await build(source);
    const applied: Array<[string, number, string]> = [];
    const rejected: string[] = [];
    mesh.on('rulesApplied', (service, version, origin) => applied.push([service, version, origin]));
    mesh.on('rulesRejected', (service) => rejected.push(service));
    try {
      const first = await rulesOf('users');
      expect(first).toMatchObject({ source: `file ${file}`, version: 1, applied: 1, rejected: 0 });
      expect(first?.routes[0]?.split.map((b) => b.weight)).toEqual([100, 0]);
      expect(Date.parse(first?.appliedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
      // A service the table does not name follows the same source, with no routes of its own.
      expect(await rulesOf('users-v2')).toMatchObject({ version: 1, routes: [] });

      publish(split(0, 100));
      await expect.poll(async () => (await rulesOf('users'))?.version, { timeout: 5000 }).toBe(2);
      expect((await rulesOf('users'))?.routes[0]?.split.map((b) => b.weight)).toEqual([0, 100]);
      const { headers, body } = await mesh.request({ service: 'users', path: '/' });
      await body.dump();
      expect(headers['x-upstream']).toBe('rules-v2');
      expect(applied).toEqual(
        expect.arrayContaining([
          ['users', 2, `file ${file}`],
          ['users-v2', 2, `file ${file}`],
        ]),
      );

      // A backend the mesh does not know: rejected as a whole, version 2 stays in force.
      publish(JSON.stringify({ services: { users: { routes: [{ backend: 'nowhere' }] } } }));
      await expect.poll(async () => (await rulesOf('users'))?.rejected, { timeout: 5000 }).toBe(1);
      const after = await rulesOf('users');
      expect(after).toMatchObject({ version: 2, applied: 2 });
      expect(after?.lastRejection).toMatch(/nowhere/);
      expect(rejected.sort()).toEqual(['users', 'users-v2']);
      const kinds = (await services()).changes.filter((c) => c.service === 'users').map((c) => c.kind);
      expect(kinds).toEqual(expect.arrayContaining(['rules', 'rules-rejected']));

      const s = await scrape(registry);
      expect(total(s, `${P}routing_rules_version`, { service: 'users' })).toBe(2);
      expect(total(s, `${P}routing_rules_version`, { service: 'users-v2' })).toBe(2);
      const updates = (outcome: string) =>
        total(s, `${P}routing_rule_updates_total`, { service: 'users', outcome });
      expect(updates('applied')).toBe(2);
      expect(updates('rejected')).toBe(1);
    } finally {
      await mesh.close();
    }
  });

  it('numbers fixed routes given in the builder as version 1, and shows none without a route layer', async () => {
    const registry = new Registry();
    const mesh = Mesh.builder()
      .stack(metrics({ registry }).install)
      .service('users', (s) => s.discovery(staticEndpoints([v1.address])))
      .service('front', (s) =>
        s.discovery(staticEndpoints([v2.address])).layer(routes({ routes: [{ backend: 'users' }] })),
      )
      .build();
    try {
      const admin = await mesh.admin({ port: 0 });
      const doc = (await (await fetch(`${admin.url}services`)).json()) as ServicesDoc;
      const rules = (name: string) => doc.services.find((s) => s.name === name)?.rules;
      expect(rules('users')).toBeNull();
      expect(rules('front')).toMatchObject({
        source: 'routes() in the builder',
        version: 1,
        routes: [{ backend: 'users' }],
      });
      const s = await scrape(registry);
      expect(total(s, `${P}routing_rules_version`, { service: 'users' })).toBe(0);
      expect(total(s, `${P}routing_rules_version`, { service: 'front' })).toBe(1);
    } finally {
      await mesh.close();
    }
  });
});

describeWithBinaries([ETCD], 'the routing rules version from an etcd key is its revision (real etcd)', () => {
  const KEY = '/trellis/routes-in-force';
  let etcd: EtcdServer;
  let client: EtcdClient;
  beforeAll(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: [etcd.url] });
  }, 30_000);
  afterAll(async () => {
    await client?.close();
    await etcd?.destroy();
  });

  it('shows the revision that wrote the rules in force, in /services and the metrics', async () => {
    const { revision: first } = await client.put(KEY, split(100, 0));
    const source = etcdRules({ endpoints: [etcd.url], key: KEY });
    const { mesh, registry, rulesOf } = await build(source);
    try {
      await source.loaded();
      expect(await rulesOf('users')).toMatchObject({
        source: `etcd key ${KEY}`,
        version: first,
        origin: `etcd key ${KEY} (revision ${first})`,
      });
      const { revision: second } = await client.put(KEY, split(0, 100));
      expect(second).toBeGreaterThan(first);
      await expect.poll(async () => (await rulesOf('users'))?.version, { timeout: 5000 }).toBe(second);
      expect(total(await scrape(registry), `${P}routing_rules_version`, { service: 'users' })).toBe(second);
    } finally {
      await mesh.close();
    }
  });
});
