import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { parseConsulHealth } from '../../src/discovery/consul/consul-format.js';
import { checkSrvRecords, selectSrvEndpoints } from '../../src/discovery/dns/srv.js';
import { type EndpointInput, parseEndpoint } from '../../src/discovery/endpoint.js';
import { parseWatchMessage } from '../../src/discovery/etcd/codec.js';
import { parseRegistration } from '../../src/discovery/etcd/etcd-resolver.js';
import { parseEndpointFile } from '../../src/discovery/file/file-format.js';
import { parseEndpointSlice } from '../../src/discovery/kubernetes/endpoint-slice.js';
import { UpdateGuard } from '../../src/discovery/update-guard.js';

const RUNS = { numRuns: 300, seed: 20261123 };

/** Garbage of every JSON shape, plus near-misses of the real formats. */
const garbage = fc.oneof(
  fc.jsonValue(),
  fc.anything(),
  fc.string(),
  fc.array(fc.record({ Node: fc.anything(), Service: fc.anything(), Checks: fc.anything() })),
);

/** Calls `parse`; it must either return or throw the documented TrellisError, nothing else. */
function neverCrashes(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    expect(
      isTrellisError(err, ErrorCode.InvalidDiscoveryData) || isTrellisError(err, ErrorCode.DiscoveryFailed),
    ).toBe(true);
  }
}

const address = fc.oneof(fc.ipV4(), fc.ipV6());
const srvRecord = fc.record({
  name: fc.constantFrom('a.test', 'b.test', 'c.test', '.'),
  port: fc.integer({ min: 0, max: 65535 }),
  priority: fc.integer({ min: 0, max: 3 }),
  weight: fc.integer({ min: 0, max: 65535 }),
});
const targetAddresses = fc
  .record({
    'a.test': fc.array(address, { maxLength: 3 }),
    'b.test': fc.array(address, { maxLength: 3 }),
    'c.test': fc.array(address, { maxLength: 3 }),
  })
  .map((o) => new Map(Object.entries(o)));

describe('discovery parsers (property-based)', () => {
  it('SRV selection yields valid endpoints from the single best resolvable priority, weights conserved', () => {
    fc.assert(
      fc.property(fc.array(srvRecord, { maxLength: 12 }), targetAddresses, (records, addresses) => {
        const endpoints = selectSrvEndpoints(records, addresses);
        for (const ep of endpoints) parseEndpoint(ep);
        const usable = records.filter(
          (r) => r.name !== '.' && r.port > 0 && (addresses.get(r.name)?.length ?? 0) > 0,
        );
        if (usable.length === 0) {
          expect(endpoints).toEqual([]);
          return;
        }
        const best = Math.min(...usable.map((r) => r.priority));
        expect(new Set(endpoints.map((ep) => ep.metadata!.priority))).toEqual(new Set([String(best)]));
        const group = usable.filter((r) => r.priority === best);
        const allZero = group.every((r) => r.weight === 0);
        const expected = group.reduce((sum, r) => sum + (allZero ? 1 : r.weight === 0 ? 0.01 : r.weight), 0);
        const total = endpoints.reduce((sum, ep) => sum + ep.weight!, 0);
        expect(total).toBeCloseTo(expected, 6);
        expect(new Set(endpoints.map((ep) => `${ep.host}|${ep.port}`)).size).toBe(endpoints.length);
      }),
      RUNS,
    );
  });

  it('SRV answers out of range are rejected with a clear error, never a crash', () => {
    fc.assert(
      fc.property(garbage, (data) => neverCrashes(() => checkSrvRecords('_x._tcp.test', data))),
      RUNS,
    );
  });

  it('endpoint files: garbage never crashes, valid files round-trip', () => {
    fc.assert(
      fc.property(garbage, (data) =>
        neverCrashes(() => parseEndpointFile(JSON.stringify(data) ?? '', 'api')),
      ),
      RUNS,
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ host: fc.ipV4(), port: fc.integer({ min: 1, max: 65535 }) })),
        (list) => {
          const text = JSON.stringify({ services: { api: list } });
          expect(parseEndpointFile(text, 'api').map((ep) => ep.port)).toEqual(list.map((ep) => ep.port));
        },
      ),
      RUNS,
    );
  });

  it('Consul and Kubernetes payloads: garbage never crashes', () => {
    fc.assert(
      fc.property(garbage, (data) => {
        neverCrashes(() => parseConsulHealth(data));
        neverCrashes(() => parseEndpointSlice(data, 'http'));
      }),
      RUNS,
    );
  });

  it('etcd watch lines and registration values: garbage never crashes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (line) => {
          neverCrashes(() => parseWatchMessage(line));
          neverCrashes(() => parseRegistration('/k', line));
        },
      ),
      RUNS,
    );
  });

  it('garbage sent through the update guard never replaces the good set', () => {
    const good: EndpointInput[] = ['127.0.0.1:3001', '127.0.0.1:3002'];
    fc.assert(
      fc.property(fc.array(garbage, { maxLength: 5 }), (updates) => {
        const applied: string[][] = [];
        const guard = new UpdateGuard(
          {
            update: (eps) => applied.push(eps.map((ep) => parseEndpoint(ep).id)),
            change: () => undefined,
            error: () => undefined,
          },
          'api',
          { debounceMs: 0, emptySetGraceMs: 0 },
        );
        guard.update(good);
        for (const update of updates) {
          let valid = true;
          try {
            if (!Array.isArray(update)) throw new Error('not a list');
            for (const ep of update) parseEndpoint(ep as EndpointInput);
          } catch {
            valid = false;
          }
          if (!valid) guard.update(update as EndpointInput[]);
        }
        guard.close();
        expect(applied).toEqual([['127.0.0.1:3001', '127.0.0.1:3002']]);
      }),
      RUNS,
    );
  });
});
