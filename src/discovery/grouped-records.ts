import { type EndpointRecord, endpointId } from './endpoint.js';
import type { ResolverSink } from './resolver.js';

function sameRecord(a: EndpointRecord, b: EndpointRecord): boolean {
  if (a.host !== b.host || a.port !== b.port || a.weight !== b.weight || a.zone !== b.zone) return false;
  const am = a.metadata ?? {};
  const bm = b.metadata ?? {};
  const keys = Object.keys(am);
  if (keys.length !== Object.keys(bm).length) return false;
  for (const key of keys) if (am[key] !== bm[key]) return false;
  return true;
}

/**
 * Turns a source that re-sends whole groups of endpoints (a Kubernetes EndpointSlice, a Consul
 * health answer) into keyed changes: each group's new list is compared with the one sent
 * before, and only endpoints that appeared, changed or left reach the sink. The mesh then
 * validates and applies the difference, not the whole set, so an update to one slice of a large
 * service costs what the slice costs. Keys are `<group>/<host:port>`.
 */
export class GroupedRecords {
  readonly #sink: ResolverSink;
  /** group → (endpoint id → the record last sent). */
  readonly #groups = new Map<string, Map<string, EndpointRecord>>();
  /** False until the first set went out (the first one goes whole, so an empty set is one too). */
  #started = false;

  /** @param sink - where the keyed changes go */
  constructor(sink: ResolverSink) {
    this.#sink = sink;
  }

  /** Replaces the endpoints of one group, sending only what differs. */
  replaceGroup(group: string, records: readonly EndpointRecord[]): void {
    if (!this.#started) {
      this.replaceAll([[group, records]]);
      return;
    }
    const before = this.#groups.get(group);
    const after = new Map<string, EndpointRecord>();
    for (const record of records) after.set(endpointId(record.host, record.port), record);
    for (const [id, record] of after) {
      const sent = before?.get(id);
      if (sent === undefined || !sameRecord(sent, record)) this.#sink.set(`${group}/${id}`, record);
    }
    if (before !== undefined) {
      for (const id of before.keys()) if (!after.has(id)) this.#sink.delete(`${group}/${id}`);
    }
    if (after.size > 0) this.#groups.set(group, after);
    else this.#groups.delete(group);
  }

  /** A complete re-read: the groups given replace every group. */
  replaceAll(groups: Iterable<readonly [string, readonly EndpointRecord[]]>): void {
    this.#started = true;
    this.#sink.beginSnapshot();
    this.#groups.clear();
    for (const [group, records] of groups) {
      const byId = new Map<string, EndpointRecord>();
      for (const record of records) byId.set(endpointId(record.host, record.port), record);
      for (const [id, record] of byId) this.#sink.set(`${group}/${id}`, record);
      if (byId.size > 0) this.#groups.set(group, byId);
    }
    this.#sink.endSnapshot();
  }
}
