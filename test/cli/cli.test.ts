import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { registerEndpoint } from '../../src/discovery/etcd/registration.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { etcdRules } from '../../src/routing/etcd-rules.js';
import type { RulesSource } from '../../src/routing/rules-source.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let etcd: EtcdServer;
let v1: Upstream;
let v2: Upstream;
let dir: string;

/** Runs `trellis ...` in-process and captures what it prints. */
async function trellis(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    out(text: string) {
      out += `${text}\n`;
    },
    err(text: string) {
      err += text;
    },
  };
  const code = await runCli(argv, io, Promise.resolve());
  return { code, out, err };
}

/** A client process's view: a mesh following the etcd rules key. */
function client(): { mesh: Mesh; rules: RulesSource } {
  const rules = etcdRules({ endpoints: [etcd.url] });
  const mesh = Mesh.builder()
    .rules(rules)
    .service('users', (s) => s.discovery(staticEndpoints([v1.address])))
    .service('users-v2', (s) => s.discovery(staticEndpoints([v2.address])))
    .build();
  return { mesh, rules };
}

describeWithBinaries([ETCD], 'the trellis command (real etcd)', () => {
  beforeAll(async () => {
    [etcd, [v1, v2]] = (await Promise.all([startEtcd(), startUpstreams('v1', 'v2')])) as [
      EtcdServer,
      [Upstream, Upstream],
    ];
    dir = mkdtempSync(join(tmpdir(), 'trellis-cli-'));
  }, 30_000);

  afterAll(async () => {
    await Promise.all([etcd?.destroy(), v1?.stop(), v2?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  it('changes the routing of every client with one split set', async () => {
    const clients = [client(), client()];
    await Promise.all(clients.map((c) => c.rules.loaded()));
    const applied = clients.map(
      (c) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('not applied within 5 s')), 5000);
          c.rules.once('applied', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    );
    const set = await trellis('split', 'set', 'users', 'users=0', 'users-v2=100', '--etcd', etcd.url);
    expect(set).toMatchObject({ code: 0, err: '' });
    expect(set.out).toMatch(/users-v2\s+100\s+100\.0%/);
    await Promise.all(applied);
    for (const { mesh } of clients) {
      const { headers, body } = await mesh.request({ service: 'users', path: '/' });
      await body.dump();
      expect(headers['x-upstream']).toBe('v2');
    }
    await Promise.all(clients.map((c) => c.mesh.close()));
  });

  it('shows the split stored in etcd with each backend share', async () => {
    await trellis('split', 'set', 'users', 'users=90', 'users-v2=10', '--etcd', etcd.url);
    const shown = await trellis('split', 'show', 'users', '--etcd', etcd.url);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/users\s+90\s+90\.0%\nusers-v2\s+10\s+10\.0%/);
  });

  it('keeps header routes when it changes the split', async () => {
    const file = join(dir, 'rules.yaml');
    writeFileSync(
      file,
      `services:
  users:
    routes:
      - { match: { headers: { x-canary: "1" } }, backend: users-v2 }
      - { split: [{ backend: users, weight: 1 }] }
`,
    );
    expect((await trellis('rules', 'set', file, '--etcd', etcd.url)).code).toBe(0);
    await trellis('split', 'set', 'users', 'users=50', 'users-v2=50', '--etcd', etcd.url);
    const shown = await trellis('rules', 'show', '--json', '--etcd', etcd.url);
    const routes = JSON.parse(shown.out).services.users.routes;
    expect(routes).toHaveLength(2);
    expect(routes[0].backend).toBe('users-v2');
    expect(routes[1].split).toEqual([
      { backend: 'users', weight: 50 },
      { backend: 'users-v2', weight: 50 },
    ]);
  });

  it('refuses an invalid rules file, lists its problems, and leaves etcd unchanged', async () => {
    const client = new EtcdClient({ endpoints: [etcd.url] });
    const before = await client.get('/trellis/routes');
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'services:\n  users:\n    routes:\n      - { backend: users, fault: { abort: { percent: 300 } } }\n',
    );
    const result = await trellis('rules', 'set', file, '--etcd', etcd.url);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/fault\.abort: percent must be a number from 0 to 100/);
    expect((await client.get('/trellis/routes'))?.modRevision).toBe(before?.modRevision);
    await client.close();
  });

  it('answers a malformed command line with what is wrong and the usage, exit code 2', async () => {
    const bad = await trellis('split', 'set', 'users', 'users-v2:10', '--etcd', etcd.url);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/'users-v2:10' is not <backend>=<weight>[\s\S]*Usage: trellis/);
    expect((await trellis('launch')).code).toBe(2);
  });

  it('lists the endpoints registered in etcd for a service', async () => {
    const client = new EtcdClient({ endpoints: [etcd.url] });
    const registration = await registerEndpoint({
      etcd: client,
      service: 'orders',
      endpoint: { host: '10.0.0.9', port: 9000, weight: 3, metadata: { version: 'v2' } },
    });
    try {
      const listed = await trellis('endpoints', 'orders', '--etcd', etcd.url);
      expect(listed).toMatchObject({ code: 0, err: '' });
      expect(listed.out).toMatch(/10\.0\.0\.9:9000\s+3\s+-\s+version=v2/);
    } finally {
      await registration.close();
      await client.close();
    }
  });

  it('lists the endpoints a resolver publishes for a service, with their metadata', async () => {
    const file = join(dir, 'endpoints.json');
    writeFileSync(
      file,
      JSON.stringify({
        services: {
          users: [{ host: '10.0.0.7', port: 8080, zone: 'a', metadata: { version: 'v2' } }, '10.0.0.8:8080'],
        },
      }),
    );
    const listed = await trellis('endpoints', 'users', '--file', file);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(
      /ENDPOINT\s+WEIGHT\s+ZONE\s+METADATA\n10\.0\.0\.7:8080\s+1\s+a\s+version=v2\n10\.0\.0\.8:8080\s+1\s+-\s+-/,
    );
  });

  it('keeps printing each update with --watch until stopped', async () => {
    const file = join(dir, 'watched.json');
    writeFileSync(file, JSON.stringify({ services: { users: ['10.0.0.1:80'] } }));
    const printed: string[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const io = {
      out(text: string) {
        printed.push(text);
        if (printed.length === 1) {
          writeFileSync(
            `${file}.tmp`,
            JSON.stringify({ services: { users: ['10.0.0.1:80', '10.0.0.2:80'] } }),
          );
          renameSync(`${file}.tmp`, file);
        } else stop();
      },
      err(text: string) {
        printed.push(`error: ${text}`);
      },
    };
    const code = await runCli(['endpoints', 'users', '--file', file, '--watch'], io, stopped);
    expect(code).toBe(0);
    expect(printed).toHaveLength(2);
    expect(printed[1]).toMatch(/10\.0\.0\.1:80[\s\S]*10\.0\.0\.2:80/);
  });
});
