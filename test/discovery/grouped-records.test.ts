import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EndpointRecord } from '../../src/discovery/endpoint.js';
import { GroupedRecords } from '../../src/discovery/grouped-records.js';
import type { ResolverSink } from '../../src/discovery/resolver.js';

/** A sink that counts calls and keeps the keyed state (snapshots replace it). */
function keyedSink() {
  const state = new Map<string, EndpointRecord>();
  let snapshot: Map<string, EndpointRecord> | undefined;
  const calls = { set: 0, delete: 0 };
  const sink: ResolverSink = {
    update: () => {
      throw new Error('a keyed source must not publish whole sets');
    },
    set(key, input) {
      calls.set++;
      (snapshot ?? state).set(key, input as EndpointRecord);
    },
    delete(key) {
      calls.delete++;
      (snapshot ?? state).delete(key);
    },
    beginSnapshot() {
      snapshot = new Map();
    },
    endSnapshot() {
      state.clear();
      for (const [k, v] of snapshot!) state.set(k, v);
      snapshot = undefined;
    },
    error: () => undefined,
  };
  return { sink, state, calls };
}

const slice = (s: number, size: number, weight = 1): EndpointRecord[] =>
  Array.from({ length: size }, (_, i) => ({ host: `10.${s}.0.${i}`, port: 80, weight }));

describe('GroupedRecords (Kubernetes slices, Consul answers)', () => {
  it('sends only what one group changed, whatever the size of the others', () => {
    const { sink, state, calls } = keyedSink();
    const groups = new GroupedRecords(sink);
    groups.replaceAll(Array.from({ length: 100 }, (_, s) => [`slice-${s}`, slice(s, 100)] as const));
    expect(state.size).toBe(10_000);
    calls.set = 0;
    const changed = slice(7, 100);
    changed[3] = { ...changed[3]!, weight: 5 };
    changed.pop();
    groups.replaceGroup('slice-7', changed);
    expect(calls).toEqual({ set: 1, delete: 1 });
    groups.replaceGroup('slice-7', []);
    expect(calls.delete).toBe(100);
    expect(state.size).toBe(9_900);
  });

  it('ends with the union of the groups as last given (property)', () => {
    const group = fc.constantFrom('a', 'b', 'c');
    const records = fc.array(
      fc
        .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 3 }))
        .map(([n, weight]) => ({ host: `10.0.0.${n}`, port: 80, weight })),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(group, records), { maxLength: 30 }), (updates) => {
        const { sink, state } = keyedSink();
        const groups = new GroupedRecords(sink);
        const truth = new Map<string, EndpointRecord[]>();
        for (const [g, list] of updates) {
          groups.replaceGroup(g, list);
          truth.set(g, list);
        }
        const want = new Map<string, EndpointRecord>();
        for (const [g, list] of truth) for (const r of list) want.set(`${g}/${r.host}:${r.port}`, r);
        expect([...state].sort()).toEqual([...want].sort());
      }),
    );
  });
});
