import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type Endpoint, parseEndpoint } from '../../src/discovery/endpoint.js';
import { EndpointSetView } from '../../src/discovery/endpoint-set-view.js';
import { KeyedEndpoints } from '../../src/discovery/keyed-endpoints.js';
import { UpdateGuard } from '../../src/discovery/update-guard.js';
import { EndpointSetDiff, EndpointSetPatch } from '../../src/service/endpoint-set-diff.js';
import { MeshEndpoint } from '../../src/service/mesh-endpoint.js';

/** Keys and ids from small spaces, so keys are rewritten and ids collide across keys. */
const key = fc.integer({ min: 0, max: 40 }).map((n) => `/services/api/k${n}`);
const record = fc
  .tuple(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 3 }))
  .map(([n, weight]) => parseEndpoint({ host: `10.0.0.${n}`, port: 80, weight }));

type Op = { kind: 'set'; key: string; record: Endpoint } | { kind: 'delete'; key: string } | { kind: 'take' };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), key, record }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'take' as const }) },
);

/** The full re-parse: from what each key holds now, the record under the smallest key per id. */
function fromScratch(byKey: Map<string, Endpoint>): Map<string, Endpoint> {
  const byId = new Map<string, Endpoint>();
  for (const k of [...byKey.keys()].sort()) {
    const rec = byKey.get(k)!;
    if (!byId.has(rec.id)) byId.set(rec.id, rec);
  }
  return byId;
}

function applyChanges(to: Map<string, Endpoint>, changes: Map<string, Endpoint | null>): void {
  for (const [id, rec] of changes) {
    if (rec === null) to.delete(id);
    else to.set(id, rec);
  }
}

const sorted = (m: Map<string, Endpoint>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

describe('incremental apply equals a full re-parse (property-based)', () => {
  it('KeyedEndpoints: the changes taken at any points rebuild the set a re-parse of the final keys gives', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const keyed = new KeyedEndpoints();
        const truth = new Map<string, Endpoint>();
        const downstream = new Map<string, Endpoint>();
        for (const o of ops) {
          if (o.kind === 'set') {
            keyed.set(o.key, o.record);
            truth.set(o.key, o.record);
          } else if (o.kind === 'delete') {
            expect(keyed.delete(o.key)).toBe(truth.delete(o.key));
          } else {
            applyChanges(downstream, keyed.takeChanges());
          }
        }
        applyChanges(downstream, keyed.takeChanges());
        const want = fromScratch(truth);
        expect(sorted(downstream)).toEqual(sorted(want));
        expect(sorted(new Map([...keyed.values()].map((r) => [r.id, r])))).toEqual(sorted(want));
        expect(keyed.size).toBe(want.size);
        expect(keyed.keys).toBe(truth.size);
      }),
      { numRuns: 300 },
    );
  });

  it('EndpointSetPatch: patching the live set by id ends where diffing the whole new set ends', () => {
    const set = fc.uniqueArray(record, { selector: (r) => r.id, maxLength: 26 });
    fc.assert(
      fc.property(set, set, fc.constantFrom(0, 1000), (before, after, budgetMs) => {
        const create = (ep: Endpoint) => new MeshEndpoint(ep, {});
        const live = new Map(before.map((ep) => [ep.id, create(ep)]));
        const liveCopy = new Map(live);
        // The changes a keyed source would send: every id of `after`, and a removal for each lost one.
        const changes = new Map<string, Endpoint | null>(after.map((r) => [r.id, r]));
        for (const ep of before) if (!changes.has(ep.id)) changes.set(ep.id, null);
        const patch = new EndpointSetPatch(changes, live, create);
        while (!patch.step(budgetMs));
        const patched = patch.result();
        const diff = new EndpointSetDiff(after, liveCopy, create);
        while (!diff.step(budgetMs));
        const whole = diff.result();
        const ids = (list: readonly { id: string }[]) => list.map((x) => x.id).sort();
        expect(patched.differs).toBe(whole.differs);
        expect(ids(patched.departed)).toEqual(ids(whole.departed));
        expect(patched.changed.map(([ep, rec]) => [ep.id, rec])).toEqual(
          expect.arrayContaining(whole.changed.map(([ep, rec]) => [ep.id, rec])),
        );
        expect(patched.changed).toHaveLength(whole.changed.length);
        if (patched.differs) {
          expect(ids(patched.list)).toEqual(ids(whole.list));
          expect(sorted(new Map(patched.records.map((r) => [r.id, r])))).toEqual(
            sorted(new Map(whole.records.map((r) => [r.id, r]))),
          );
        }
        expect([...patched.byId.keys()].sort()).toEqual([...whole.byId.keys()].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('UpdateGuard: keyed sets, deletes and snapshots, flushed at any points, leave the mesh with the re-parse', () => {
    type GuardOp = Op | { kind: 'snapshot'; entries: Array<[string, Endpoint]> };
    const guardOp: fc.Arbitrary<GuardOp> = fc.oneof(
      { weight: 8, arbitrary: op },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('snapshot' as const),
          entries: fc.array(fc.tuple(key, record), { maxLength: 30 }),
        }),
      },
    );
    vi.useFakeTimers();
    try {
      fc.assert(
        fc.property(fc.array(guardOp, { maxLength: 200 }), (ops) => {
          const view = new EndpointSetView(
            () => undefined,
            () => undefined,
          );
          const guard = new UpdateGuard(view, 'api', { debounceMs: 5, emptySetGraceMs: 0 });
          const truth = new Map<string, Endpoint>();
          for (const o of ops) {
            if (o.kind === 'set') {
              guard.set(o.key, { host: o.record.host, port: o.record.port, weight: o.record.weight });
              truth.set(o.key, o.record);
            } else if (o.kind === 'delete') {
              guard.delete(o.key);
              truth.delete(o.key);
            } else if (o.kind === 'snapshot') {
              guard.beginSnapshot();
              truth.clear();
              for (const [k, r] of o.entries) {
                guard.set(k, { host: r.host, port: r.port, weight: r.weight });
                truth.set(k, r);
              }
              guard.endSnapshot();
            } else {
              vi.runAllTimers();
            }
          }
          vi.runAllTimers();
          const got = new Map(view.endpoints().map((r) => [r.id, r]));
          expect(sorted(got)).toEqual(sorted(fromScratch(truth)));
          guard.close();
        }),
        { numRuns: 200 },
      );
    } finally {
      vi.useRealTimers();
    }
  });
});
