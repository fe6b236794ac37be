import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { consulEndpoints } from '../../src/discovery/consul/consul-resolver.js';
import { runResolver, until } from '../support/discovery.js';
import { type DiscoveryApi, startDiscoveryApi } from '../support/discovery-api.js';

/** A recorded /v1/health/service/web answer, in Consul's documented format. */
const RECORDED = JSON.parse(
  readFileSync(new URL('../fixtures/consul/health-service-web.json', import.meta.url), 'utf8'),
) as Array<Record<string, unknown>>;

const FAST = { debounceMs: 10, emptySetGraceMs: 400 };

describe('Consul resolver: contract tests against recorded Consul API responses (no real Consul can run here)', () => {
  let api: DiscoveryApi;
  beforeAll(async () => {
    api = await startDiscoveryApi();
  });
  afterAll(async () => {
    await api?.stop();
  });

  const resolver = (service: string) =>
    consulEndpoints({ address: api.url, service, waitSeconds: 2, maxBackoffMs: 200, updates: FAST });

  it('turns passing instances into endpoints with weight, zone, tags and meta', async () => {
    await api.control('consul/web', { index: 100, body: RECORDED });
    const run = runResolver(resolver('web'));
    await until(() => run.applied.length === 1, 'the first set');
    expect(run.applied[0]).toEqual([
      expect.objectContaining({
        id: '127.0.0.2:8080',
        weight: 10,
        zone: 'zone-a',
        metadata: { version: '2.1.0', tags: 'primary,v2', node: 'node-a', datacenter: 'dc1' },
      }),
      // No service address: the node's address is used.
      expect.objectContaining({ id: '127.0.0.3:8081', weight: 1, zone: 'zone-b' }),
    ]);
    await run.close();
  });

  it('follows changes with blocking queries that carry the last X-Consul-Index', async () => {
    await api.control('consul/blocking', { index: 200, body: RECORDED });
    const run = runResolver(resolver('blocking'));
    await until(() => run.applied.length === 1, 'the first set');
    await api.control('consul/blocking', { index: 201, body: RECORDED.slice(1) });
    await until(() => run.current().join() === '127.0.0.3:8081', 'the change');
    const urls = (await api.log()).log.map((r) => r.url).filter((u) => u.includes('/blocking'));
    expect(urls[0]).toMatch(/passing=true/);
    expect(urls.some((u) => /index=200/.test(u) && /wait=2s/.test(u))).toBe(true);
    await run.close();
  });

  it('sends the ACL token and the datacenter', async () => {
    await api.control('consul/acl', { index: 700, body: RECORDED });
    const run = runResolver(
      consulEndpoints({
        address: api.url,
        service: 'acl',
        datacenter: 'dc2',
        token: 's3cret',
        waitSeconds: 2,
        updates: FAST,
      }),
    );
    await until(() => run.applied.length === 1, 'the first set');
    const seen = (await api.log()).log.find((r) => r.url.includes('/acl'));
    expect(seen?.url).toMatch(/dc=dc2/);
    expect(seen?.token).toBe('s3cret');
    await run.close();
  });

  it('leaves out instances with a failing check', async () => {
    const critical = structuredClone(RECORDED);
    (critical[0]!.Checks as Array<Record<string, unknown>>)[1]!.Status = 'critical';
    await api.control('consul/checks', { index: 300, body: critical });
    const run = runResolver(resolver('checks'));
    await until(() => run.applied.length === 1, 'the first set');
    expect(run.current()).toEqual(['127.0.0.3:8081']);
    await run.close();
  });

  it('keeps the last good set on malformed data, server errors and non-JSON, saying why', async () => {
    await api.control('consul/bad', { index: 400, body: RECORDED });
    const run = runResolver(resolver('bad'));
    await until(() => run.applied.length === 1, 'the first set');
    const broken = structuredClone(RECORDED);
    (broken[1]!.Service as Record<string, unknown>).Port = 'eighty';
    await api.control('consul/bad', { index: 401, body: broken });
    await until(
      () => run.errors.some((e) => isTrellisError(e, ErrorCode.InvalidDiscoveryData)),
      'a parse error',
    );
    expect(run.errors[0]!.message).toMatch(/web-2.*port/);
    await api.control('consul/bad', { status: 500, text: 'rpc error: No cluster leader' });
    await until(() => run.errors.some((e) => /500.*No cluster leader/.test(e.message)), 'the server error');
    await api.control('consul/bad', { index: 402, body: '<html>proxy error</html>' });
    await until(() => run.errors.some((e) => /not JSON/.test(e.message)), 'the non-JSON error');
    expect(run.applied).toHaveLength(1);
    expect(run.current()).toHaveLength(2);
    await api.control('consul/bad', { index: 403, body: RECORDED.slice(0, 1) });
    await until(() => run.current().join() === '127.0.0.2:8080', 'recovery');
    await run.close();
  });

  it('holds back an answer with no passing instance for the grace period', async () => {
    await api.control('consul/empty', { index: 500, body: RECORDED });
    const run = runResolver(resolver('empty'));
    await until(() => run.applied.length === 1, 'the first set');
    await api.control('consul/empty', { index: 501, body: [] });
    await until(() => run.guard.holdingEmptySet, 'the hold');
    expect(run.current()).toHaveLength(2);
    await until(() => run.current().length === 0, 'the grace to end');
    await run.close();
  });

  it('paces its queries when the answers carry no X-Consul-Index (they cannot block)', async () => {
    await api.control('consul/noindex', { index: 0, body: RECORDED });
    const run = runResolver(resolver('noindex'));
    await until(() => run.applied.length === 1, 'the first set');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await run.close();
    const queries = (await api.log()).log.filter((r) => r.url.includes('/noindex'));
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect(queries.length).toBeLessThanOrEqual(3);
  });

  it('ends its blocking query on close', async () => {
    await api.control('consul/closing', { index: 600, body: RECORDED });
    const run = runResolver(resolver('closing'));
    await until(() => run.applied.length === 1, 'the first set');
    await run.close();
    await api.control('consul/closing', { index: 601, body: [] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(run.applied).toHaveLength(1);
  });

  it('rejects invalid options at build time', () => {
    expect(consulEndpoints({ address: 'consul:8500', waitSeconds: 9999 }).validate?.()).toHaveLength(2);
  });
});
