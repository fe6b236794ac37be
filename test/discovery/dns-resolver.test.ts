import { afterAll, beforeAll, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { dnsAddresses, dnsSrv } from '../../src/discovery/dns/dns-resolver.js';
import { runResolver, until } from '../support/discovery.js';
import { type DnsRecords, type DnsServer, startDns } from '../support/dnsmasq.js';
import { DNSMASQ, describeWithBinaries } from '../support/system-binary.js';

const SRV = '_http._tcp.api.test';

const initial: DnsRecords = {
  srv: [
    { name: SRV, target: 'a.api.test', port: 8080, priority: 10, weight: 3 },
    { name: SRV, target: 'b.api.test', port: 8081, priority: 10, weight: 1 },
    { name: SRV, target: 'backup.api.test', port: 9000, priority: 20, weight: 1 },
  ],
  hosts: [
    { name: 'a.api.test', address: '127.0.0.2', ttl: 1 },
    { name: 'b.api.test', address: '127.0.0.3', ttl: 1 },
    { name: 'b.api.test', address: '::1', ttl: 1 },
    { name: 'backup.api.test', address: '127.0.0.9', ttl: 1 },
  ],
};

describeWithBinaries([DNSMASQ], 'DNS resolvers against a real dnsmasq on loopback', () => {
  let dns: DnsServer;
  beforeAll(async () => {
    dns = await startDns(initial);
  });
  afterAll(async () => {
    await dns?.stop();
  });

  const fast = () => ({
    servers: [dns.server],
    minTtlMs: 100,
    maxTtlMs: 400,
    timeoutMs: 200,
    tries: 1,
    updates: { debounceMs: 10, emptySetGraceMs: 600 },
  });

  it('publishes the preferred SRV priority with ports, weights shared per address, and metadata', async () => {
    const run = runResolver(dnsSrv(SRV, fast()));
    await until(() => run.applied.length >= 1, 'the first set');
    const byId = new Map(run.applied[0]!.map((ep) => [ep.id, ep]));
    expect([...byId.keys()].sort()).toEqual(['127.0.0.2:8080', '127.0.0.3:8081', '[::1]:8081']);
    expect(byId.get('127.0.0.2:8080')).toMatchObject({
      weight: 3,
      metadata: { target: 'a.api.test', priority: '10' },
    });
    expect(byId.get('127.0.0.3:8081')!.weight).toBe(0.5);
    await run.close();
  });

  it('follows record changes on the TTL, and falls back to the backup priority', async () => {
    const run = runResolver(dnsSrv(SRV, fast()));
    await until(() => run.applied.length >= 1, 'the first set');
    await dns.setRecords({
      srv: [
        { name: SRV, target: 'gone.api.test', port: 8080, priority: 10, weight: 3 },
        { name: SRV, target: 'backup.api.test', port: 9000, priority: 20, weight: 1 },
      ],
      hosts: [{ name: 'backup.api.test', address: '127.0.0.9', ttl: 1 }],
    });
    await until(() => run.current().join() === '127.0.0.9:9000', 'the backup target');
    // The preferred target's NXDOMAIN is reported, though the backup keeps the service up.
    expect(
      run.errors.some((e) => isTrellisError(e, ErrorCode.DiscoveryFailed) && /NXDOMAIN/.test(e.message)),
    ).toBe(true);
    await dns.setRecords(initial);
    await until(() => run.current().length === 3, 'the restored records');
    await run.close();
  });

  it('keeps the last good set on NXDOMAIN and says so', async () => {
    const run = runResolver(dnsAddresses('a.api.test', 3000, fast()));
    await until(() => run.applied.length >= 1, 'the first set');
    await dns.setRecords({ ...initial, hosts: initial.hosts!.filter((h) => h.name !== 'a.api.test') });
    await until(() => run.errors.some((e) => /a\.api\.test.*NXDOMAIN/.test(e.message)), 'the NXDOMAIN error');
    expect(run.current()).toEqual(['127.0.0.2:3000']);
    await dns.setRecords(initial);
    await run.close();
  });

  it('keeps the last good set while the server stops answering, then recovers', async () => {
    const run = runResolver(dnsAddresses('b.api.test', 3000, fast()));
    await until(() => run.applied.length >= 1, 'the first set');
    expect(run.current()).toEqual(['127.0.0.3:3000', '[::1]:3000']);
    dns.pause();
    try {
      await until(() => run.errors.some((e) => /did not answer/.test(e.message)), 'a timeout');
      expect(run.current()).toEqual(['127.0.0.3:3000', '[::1]:3000']);
    } finally {
      dns.resume();
    }
    await dns.setRecords({ ...initial, hosts: [{ name: 'b.api.test', address: '127.0.0.7', ttl: 1 }] });
    await until(() => run.current().join() === '127.0.0.7:3000', 'recovery with the new record');
    await dns.setRecords(initial);
    await run.close();
  });

  it('holds back an SRV name whose only record says "no service" for the grace period', async () => {
    const run = runResolver(dnsSrv(SRV, fast()));
    await until(() => run.applied.length >= 1, 'the first set');
    await dns.setRecords({
      srv: [{ name: SRV, target: '.', port: 0, priority: 0, weight: 0 }],
      hosts: initial.hosts,
    });
    await until(() => run.guard.holdingEmptySet, 'the hold');
    expect(run.current()).toHaveLength(3);
    await until(() => run.current().length === 0, 'the grace period to end');
    await dns.setRecords(initial);
    await run.close();
  });

  it('moves on to the next server of a custom list when the first does not answer', async () => {
    const silent = await startDns({});
    silent.pause();
    try {
      const run = runResolver(
        dnsAddresses('a.api.test', 3000, { ...fast(), servers: [silent.server, dns.server] }),
      );
      await until(() => run.applied.length >= 1, 'an answer from the second server');
      expect(run.current()).toEqual(['127.0.0.2:3000']);
      await run.close();
    } finally {
      silent.resume();
      await silent.stop();
    }
  });

  it('leaves no timer or query behind after close', async () => {
    const run = runResolver(dnsSrv(SRV, fast()));
    await until(() => run.applied.length >= 1, 'the first set');
    await run.close();
    const seen = run.applied.length + run.errors.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(run.applied.length + run.errors.length).toBe(seen);
  });

  it('rejects invalid options at build time', () => {
    const problems = dnsSrv(SRV, {
      servers: ['not a server'],
      minTtlMs: 10,
      maxTtlMs: 5,
      tries: 0,
    }).validate?.();
    expect(problems).toHaveLength(3);
    expect(dnsAddresses('x.test', 0).validate?.()).toEqual(['port must be 1 to 65535']);
  });
});
