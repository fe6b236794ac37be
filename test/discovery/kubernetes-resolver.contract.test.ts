import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { kubernetesEndpoints } from '../../src/discovery/kubernetes/kubernetes-resolver.js';
import { runResolver, until } from '../support/discovery.js';
import { type DiscoveryApi, startDiscoveryApi } from '../support/discovery-api.js';

/** A recorded EndpointSliceList for Service shop/web, in the documented discovery.k8s.io/v1 format. */
const RECORDED = JSON.parse(
  readFileSync(new URL('../fixtures/kubernetes/endpointslices-list.json', import.meta.url), 'utf8'),
) as { metadata: { resourceVersion: string }; items: Array<Record<string, unknown>> };

const FAST = { debounceMs: 10, emptySetGraceMs: 400 };

function event(type: string, object: unknown): { line: string } {
  return { line: JSON.stringify({ type, object }) };
}

/** The first slice with its endpoints replaced and a new resourceVersion. */
function sliceWith(resourceVersion: string, endpoints: unknown[]): Record<string, unknown> {
  const slice = structuredClone(RECORDED.items[0]!);
  (slice.metadata as Record<string, unknown>).resourceVersion = resourceVersion;
  slice.endpoints = endpoints;
  return slice;
}

describe('Kubernetes EndpointSlice resolver: contract tests against recorded API responses (no real cluster can run here)', () => {
  let api: DiscoveryApi;
  // What the API server sees, polled in the background: open watches and watch requests made.
  let openWatches = 0;
  let watchUrls: string[] = [];
  let poll: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    api = await startDiscoveryApi();
    poll = setInterval(() => {
      api
        .log()
        .then((seen) => {
          openWatches = seen.openWatches;
          watchUrls = seen.log.map((r) => r.url).filter((u) => /watch=true/.test(u));
        })
        .catch(() => undefined); // the last poll may race the server's shutdown
    }, 20);
  });
  afterAll(async () => {
    clearInterval(poll);
    await api?.stop();
  });

  async function start() {
    await api.control('k8s/list', {
      resourceVersion: RECORDED.metadata.resourceVersion,
      items: RECORDED.items,
    });
    const run = runResolver(
      kubernetesEndpoints({
        apiServer: api.url,
        namespace: 'shop',
        port: 'http',
        token: 'test-token',
        maxBackoffMs: 200,
        updates: FAST,
      }),
      'web',
    );
    await until(() => run.applied.length === 1, 'the listed set');
    return run;
  }

  async function watching(): Promise<void> {
    await until(() => openWatches > 0, 'the watch to open');
  }

  it('lists ready endpoints on the named port, with zones and zone hints', async () => {
    const run = await start();
    expect(run.applied[0]).toEqual([
      expect.objectContaining({
        id: '127.0.0.11:8080',
        zone: 'europe-west1-b',
        metadata: { nodeName: 'worker-a', hostname: 'web-0', pod: 'web-0', forZones: 'europe-west1-b' },
      }),
      expect.objectContaining({
        id: '[::1]:8080',
        zone: 'europe-west1-c',
        metadata: expect.objectContaining({ forZones: 'europe-west1-c,europe-west1-d' }),
      }),
    ]);
    const requests = (await api.log()).log;
    expect(requests.some((r) => r.url.includes('labelSelector=kubernetes.io%2Fservice-name%3Dweb'))).toBe(
      true,
    );
    expect(requests.every((r) => r.token === 'Bearer test-token')).toBe(true);
    await run.close();
  });

  it('follows the watch stream from the list resourceVersion: modified, added, deleted, bookmarks', async () => {
    const run = await start();
    await watching();
    const urls = (await api.log()).log.map((r) => r.url);
    expect(urls.some((u) => /watch=true/.test(u) && /resourceVersion=48213/.test(u))).toBe(true);
    await api.control(
      'k8s/event',
      event('MODIFIED', sliceWith('48300', [{ addresses: ['127.0.0.21'], conditions: { ready: true } }])),
    );
    await until(() => run.current().includes('127.0.0.21:8080'), 'the modification');
    expect(run.current()).not.toContain('127.0.0.11:8080');
    await api.control(
      'k8s/event',
      event('BOOKMARK', { kind: 'EndpointSlice', metadata: { resourceVersion: '48350' } }),
    );
    await api.control('k8s/event', event('DELETED', RECORDED.items[1]));
    await until(() => run.current().join() === '127.0.0.21:8080', 'the deletion');
    await run.close();
  });

  it('reopens a dropped watch where it left off, and relists when the history is gone (410)', async () => {
    const run = await start();
    await watching();
    await api.control(
      'k8s/event',
      event('BOOKMARK', { kind: 'EndpointSlice', metadata: { resourceVersion: '48400' } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await api.control('k8s/drop');
    await until(
      () => watchUrls.some((u) => /resourceVersion=48400/.test(u)),
      'the watch to reopen from the bookmark',
    );
    const relisted = { resourceVersion: '50000', oldestResourceVersion: 49000, items: [RECORDED.items[1]] };
    await api.control('k8s/list', relisted);
    await api.control('k8s/drop');
    await until(() => run.current().join() === '[::1]:8080', 'the relisted set');
    await run.close();
  });

  it('keeps the last good endpoints of a slice when a new version of it is malformed', async () => {
    const run = await start();
    await watching();
    await api.control(
      'k8s/event',
      event('MODIFIED', sliceWith('48500', [{ addresses: ['127.0.0.31'], conditions: { ready: 'yes' } }])),
    );
    await until(() => run.errors.some((e) => isTrellisError(e, ErrorCode.InvalidDiscoveryData)), 'the error');
    expect(run.errors[0]!.message).toMatch(/conditions\.ready is not a boolean/);
    expect(run.applied).toHaveLength(1);
    await api.control(
      'k8s/event',
      event('MODIFIED', sliceWith('48501', [{ addresses: ['127.0.0.32'], conditions: { ready: true } }])),
    );
    await until(() => run.current().includes('127.0.0.32:8080'), 'the next good version');
    await run.close();
  });

  it('holds back the loss of every ready endpoint for the grace period', async () => {
    const run = await start();
    await watching();
    await api.control('k8s/event', event('DELETED', RECORDED.items[1]));
    await api.control('k8s/event', event('MODIFIED', sliceWith('48600', [])));
    await until(() => run.guard.holdingEmptySet, 'the hold');
    expect(run.current().length).toBeGreaterThan(0);
    await until(() => run.current().length === 0, 'the grace to end');
    await run.close();
  });

  it('keeps the last good set when the API refuses (403) and recovers when it answers again', async () => {
    const run = await start();
    await watching();
    const forbidden = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:shop:default" cannot watch resource "endpointslices"',
      reason: 'Forbidden',
      code: 403,
    };
    await api.control('k8s/list', { status: 403, text: JSON.stringify(forbidden) });
    await api.control('k8s/drop');
    await until(
      () => run.errors.some((e) => /answered 403.*forbidden.*may list and watch/.test(e.message)),
      'the error',
    );
    expect(run.current()).toHaveLength(2);
    // Access is back, and the history the watch would resume from expired during the outage.
    await api.control('k8s/list', {
      resourceVersion: '60000',
      oldestResourceVersion: 59000,
      items: [RECORDED.items[1]],
    });
    await until(() => run.current().join() === '[::1]:8080', 'recovery');
    await run.close();
  });

  it('closes its watch on close', async () => {
    const run = await start();
    await watching();
    await run.close();
    await until(() => openWatches === 0, 'the watch to close');
  });

  it('rejects invalid options at build time', () => {
    expect(kubernetesEndpoints({ apiServer: 'k8s', namespace: 'Not_Valid' }).validate?.()).toHaveLength(2);
  });
});
