import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consulEndpoints,
  dnsSrv,
  EtcdClient,
  etcdEndpoints,
  fileEndpoints,
  kubernetesEndpoints,
  type Resolver,
  registerEndpoint,
  staticEndpoints,
} from '../../src/discovery/index.js';
import { ErrorCode, findTrellisError, isTrellisError, Mesh } from '../../src/index.js';
import { type DiscoveryApi, startDiscoveryApi } from '../support/discovery-api.js';
import { type DnsServer, startDns } from '../support/dnsmasq.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { DNSMASQ, describeWithBinaries, ETCD, type SystemBinary } from '../support/system-binary.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

const FAST = { debounceMs: 10, emptySetGraceMs: 500 };

let upstream: Upstream;
let dir: string;
let api: DiscoveryApi;
// dnsmasq and etcd are started by the first case that needs them (a machine without them skips
// those cases, and the others still run).
let dns: Promise<DnsServer> | undefined;
let etcd: Promise<{ server: EtcdServer; client: EtcdClient }> | undefined;

beforeAll(async () => {
  [upstream, dir, api] = await Promise.all([
    startUpstream('first'),
    mkdtemp(join(tmpdir(), 'trellis-ready-')),
    startDiscoveryApi(),
  ]);
}, 30_000);

afterAll(async () => {
  const [dnsServer, etcdServer] = await Promise.all([
    dns?.catch(() => undefined),
    etcd?.catch(() => undefined),
  ]);
  await etcdServer?.client.close();
  await Promise.all([upstream?.stop(), dnsServer?.stop(), etcdServer?.server.destroy(), api?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The system servers each case needs, besides Node. */
const NEEDS: Record<string, SystemBinary[]> = { 'DNS (dnsmasq)': [DNSMASQ], etcd: [ETCD] };

/** A discovery source that has nothing yet, and the step that publishes the upstream in it. */
interface Source {
  resolver: Resolver;
  publish(): Promise<unknown>;
}

const sources: Record<string, () => Promise<Source>> = {
  async file() {
    const path = join(dir, 'users.json');
    return {
      resolver: fileEndpoints(path, { updates: FAST }),
      publish: () => writeFile(path, JSON.stringify([upstream.address])),
    };
  },
  async 'DNS (dnsmasq)'() {
    dns ??= startDns({});
    const server = await dns;
    return {
      resolver: dnsSrv('_http._tcp.users.test', {
        servers: [server.server],
        minTtlMs: 100,
        maxTtlMs: 300,
        timeoutMs: 200,
        tries: 1,
        updates: FAST,
      }),
      publish: () =>
        server.setRecords({
          srv: [
            {
              name: '_http._tcp.users.test',
              target: 'a.users.test',
              port: upstream.port,
              priority: 1,
              weight: 1,
            },
          ],
          hosts: [{ name: 'a.users.test', address: '127.0.0.1', ttl: 1 }],
        }),
    };
  },
  async etcd() {
    etcd ??= startEtcd().then((server) => ({
      server,
      client: new EtcdClient({ endpoints: [server.url], timeoutMs: 2000 }),
    }));
    const { client: etcdClient } = await etcd;
    return {
      resolver: etcdEndpoints({ etcd: etcdClient, prefix: '/ready/', updates: FAST }),
      publish: () =>
        registerEndpoint({
          etcd: etcdClient,
          prefix: '/ready/',
          service: 'users',
          endpoint: { host: '127.0.0.1', port: upstream.port },
        }),
    };
  },
  async 'Consul (recorded API)'() {
    await api.control('consul/users', { status: 500, text: 'No cluster leader' });
    return {
      resolver: consulEndpoints({
        address: api.url,
        service: 'users',
        waitSeconds: 1,
        maxBackoffMs: 100,
        updates: FAST,
      }),
      publish: () =>
        api.control('consul/users', {
          index: 10,
          body: [
            {
              Node: { Node: 'n1', Address: '127.0.0.1', Meta: {} },
              Service: {
                ID: 'users-1',
                Service: 'users',
                Address: '127.0.0.1',
                Port: upstream.port,
                Tags: [],
                Meta: {},
              },
              Checks: [{ Status: 'passing' }],
            },
          ],
        }),
    };
  },
  async 'Kubernetes (recorded API)'() {
    await api.control('k8s/list', { status: 503, text: 'etcdserver: leader changed' });
    return {
      resolver: kubernetesEndpoints({
        apiServer: api.url,
        namespace: 'shop',
        service: 'users',
        port: 'http',
        maxBackoffMs: 100,
        updates: FAST,
      }),
      publish: () =>
        api.control('k8s/list', {
          resourceVersion: '100',
          items: [
            {
              metadata: {
                name: 'users-abc',
                namespace: 'shop',
                resourceVersion: '100',
                labels: { 'kubernetes.io/service-name': 'users' },
              },
              addressType: 'IPv4',
              ports: [{ name: 'http', protocol: 'TCP', port: upstream.port }],
              endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
            },
          ],
        }),
    };
  },
};

for (const kind of Object.keys(sources))
  describeWithBinaries(NEEDS[kind] ?? [], `waiting for discovery with ${kind}`, () => {
    it('a request sent right after build() waits for the first endpoints and succeeds; ready() resolves', async () => {
      const source = await sources[kind]!();
      const mesh = Mesh.builder()
        .service('users', (s) => s.discovery(source.resolver))
        .build();
      try {
        const answer = mesh.request({ service: 'users', path: '/first', timeout: 8000 });
        const fetched = mesh.fetch('http://users/fetched', { signal: AbortSignal.timeout(8000) });
        const ready = mesh.ready({ timeout: 8000 });
        let readyYet = false;
        void ready.then(() => {
          readyYet = true;
        });
        // Still nothing published: the request waits (it neither failed nor was answered).
        await new Promise((r) => setTimeout(r, 150));
        expect(readyYet).toBe(false);
        await source.publish();
        const res = await answer;
        expect(res.statusCode).toBe(200);
        expect(await res.body.text()).toBe('ok first');
        expect(await (await fetched).text()).toBe('ok first');
        await ready;
      } finally {
        await mesh.close();
      }
    }, 20_000);
  });

describe('when discovery never answers', () => {
  const silent: Resolver = { description: 'silent', resolve: () => ({ close() {} }) };

  it('ready() rejects after its timeout naming the services still waiting and their latest discovery error', async () => {
    const mesh = Mesh.builder()
      .service('users', (s) => s.discovery(fileEndpoints(join(dir, 'missing.json'))))
      .service('orders', (s) => s.discovery(silent))
      .service('static', (s) => s.discovery(staticEndpoints([upstream.address])))
      .build();
    try {
      const err = await mesh.ready({ timeout: 300 }).catch((e: unknown) => e);
      expect(isTrellisError(err, ErrorCode.NoEndpoints)).toBe(true);
      const failure = err as { message: string; details: { waiting: string[] } };
      expect(failure.details.waiting).toEqual(['users', 'orders']);
      expect(failure.message).toMatch(/after 300 ms, 2 services have no endpoints yet/);
      expect(failure.message).toMatch(
        /'users' \(file\(.*missing\.json\); last error: Cannot read endpoint file/,
      );
      expect(failure.message).toMatch(/'orders' \(silent; no error reported yet\)/);
    } finally {
      await mesh.close();
    }
  });

  it('a request waits only within its deadline, then fails with TRELLIS_NO_ENDPOINTS saying it was not sent', async () => {
    const mesh = Mesh.builder()
      .service('orders', (s) => s.discovery(silent))
      .build();
    try {
      const started = performance.now();
      const err = await mesh
        .request({ service: 'orders', path: '/x', timeout: 250 })
        .catch((e: unknown) => e);
      const waited = performance.now() - started;
      expect(isTrellisError(err, ErrorCode.NoEndpoints)).toBe(true);
      const failure = err as { message: string; details: { requestSent: boolean } };
      expect(failure.details.requestSent).toBe(false);
      expect(failure.message).toMatch(
        /GET orders\/x was not sent: discovery for 'orders' \(silent; .*published no endpoints/,
      );
      // It waited (it did not fail at once), and no longer than the deadline allows (generous bound).
      expect(waited).toBeGreaterThanOrEqual(200);
      expect(waited).toBeLessThan(3000);
    } finally {
      await mesh.close();
    }
  });

  it("a caller's abort ends the wait with the caller's reason; close() ends it with TRELLIS_MESH_CLOSED", async () => {
    const mesh = Mesh.builder()
      .service('orders', (s) => s.discovery(silent))
      .build();
    const controller = new AbortController();
    const aborted = mesh
      .request({ service: 'orders', path: '/x', signal: controller.signal })
      .catch((e: unknown) => e);
    const cut = mesh.request({ service: 'orders', path: '/y' }).catch((e: unknown) => e);
    const ready = mesh.ready({ timeout: 5000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error('caller gave up'));
    expect(((await aborted) as Error).message).toBe('caller gave up');
    await mesh.close();
    expect(findTrellisError(await cut, ErrorCode.MeshClosed)).toBeDefined();
    expect(findTrellisError(await ready, ErrorCode.MeshClosed)).toBeDefined();
  });
});
