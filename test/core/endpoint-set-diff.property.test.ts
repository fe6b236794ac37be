import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Endpoint, parseEndpoint } from '../../src/discovery/endpoint.js';
import { EndpointSetDiff } from '../../src/service/endpoint-set-diff.js';
import { MeshEndpoint } from '../../src/service/mesh-endpoint.js';

/** A record drawn from a small id space (so sets overlap and repeat ids) with a varying weight and label. */
const record = fc
  .tuple(fc.integer({ min: 0, max: 900 }), fc.integer({ min: 0, max: 2 }), fc.constantFrom('a', 'b'))
  .map(([n, weight, v]) =>
    parseEndpoint({ host: `10.0.${n >> 8}.${n & 255}`, port: 80, weight, metadata: { v } }),
  );

/** Runs a diff to the end in slices of `budgetMs` (0: one clock look, i.e. 256 records, per slice). */
function diffAll(records: Endpoint[], live: MeshEndpoint[], budgetMs: number) {
  const index = new Map(live.map((ep) => [ep.id, ep]));
  const diff = new EndpointSetDiff(records, index, (ep) => new MeshEndpoint(ep, {}));
  let slices = 1;
  while (!diff.step(budgetMs)) slices++;
  return { change: diff.result(), slices };
}

/** The last record per id, in first-seen order: what the new set must end up as. */
function expected(records: Endpoint[]): Map<string, Endpoint> {
  const byId = new Map<string, Endpoint>();
  // Setting a key again keeps its first position.
  for (const r of records) byId.set(r.id, r);
  return byId;
}

describe('EndpointSetDiff (property-based)', () => {
  it('ends with the new set whole, keeps live objects, and names exactly the departed and changed', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(record, { selector: (r) => r.id, maxLength: 700, size: 'max' }),
        fc.array(record, { maxLength: 700, size: 'max' }),
        fc.constantFrom(0, 1000),
        (before, after, budgetMs) => {
          const live = before.map((ep) => new MeshEndpoint(ep, {}));
          const { change, slices } = diffAll(after, live, budgetMs);
          const want = expected(after);
          // Sliced or not, the result is the same; with budget 0 each slice is 256 records.
          if (budgetMs === 0) expect(slices).toBe(Math.max(1, Math.ceil(after.length / 256)));
          expect(change.list.map((ep) => ep.id)).toEqual([...want.keys()]);
          expect(change.records).toEqual([...want.values()]);
          expect([...change.byId.keys()]).toEqual([...want.keys()]);
          const liveById = new Map(live.map((ep) => [ep.id, ep]));
          for (const ep of change.list) if (liveById.has(ep.id)) expect(ep).toBe(liveById.get(ep.id));
          expect(change.departed.map((ep) => ep.id).sort()).toEqual(
            live
              .filter((ep) => !want.has(ep.id))
              .map((ep) => ep.id)
              .sort(),
          );
          // Applying the changes in order leaves every endpoint with its newest record.
          for (const [ep, rec] of change.changed) ep.endpoint = rec;
          for (const ep of change.list) {
            const rec = want.get(ep.id)!;
            expect(ep.endpoint.weight).toBe(rec.weight);
            expect(ep.endpoint.metadata).toEqual(rec.metadata);
          }
          const same =
            change.departed.length === 0 &&
            change.list.every((ep) => liveById.has(ep.id)) &&
            before.every((b) => {
              const w = want.get(b.id);
              return w !== undefined && w.weight === b.weight && w.metadata.v === b.metadata.v;
            });
          expect(change.differs).toBe(!same);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports no difference for the same set in another order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(record, { selector: (r) => r.id, maxLength: 600, size: 'max' }), (set) => {
        const live = set.map((ep) => new MeshEndpoint(ep, {}));
        const shuffled = [...set]
          .reverse()
          .map((ep) => parseEndpoint({ ...ep, metadata: { ...ep.metadata } }));
        expect(diffAll(shuffled, live, 0).change.differs).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
