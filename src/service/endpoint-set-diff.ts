import type { Endpoint } from '../discovery/endpoint.js';
import { workSlice } from '../discovery/time-slice.js';
import type { MeshEndpoint } from './mesh-endpoint.js';

/** Whether two records of the same id say the same thing (weight, zone, metadata). */
function sameRecord(a: Endpoint, b: Endpoint): boolean {
  if (a === b) return true;
  if (a.weight !== b.weight || a.zone !== b.zone) return false;
  const keys = Object.keys(a.metadata);
  if (keys.length !== Object.keys(b.metadata).length) return false;
  for (const key of keys) if (a.metadata[key] !== b.metadata[key]) return false;
  return true;
}

/** What {@link EndpointSetDiff} found once it is done. */
export interface EndpointSetChange {
  /** The live endpoints of the new set, in discovery order (kept ones are the same objects). */
  readonly list: MeshEndpoint[];
  /** The new index by id. */
  readonly byId: Map<string, MeshEndpoint>;
  /** Endpoints that left discovery: to be drained once the new set is in force. */
  readonly departed: MeshEndpoint[];
  /** Kept endpoints whose record changed, with their new record, to be set on commit. */
  readonly changed: Array<[MeshEndpoint, Endpoint]>;
  /** The new set's records, one per id. */
  readonly records: readonly Endpoint[];
  /** False when the update adds, removes and changes nothing. */
  readonly differs: boolean;
}

/**
 * Works out how a discovery update changes the live endpoint set, a slice at a time, so that a
 * set of 10 000 endpoints does not hold the event loop for tens of milliseconds (requests keep
 * flowing between slices). New endpoints are created but stay invisible: nothing is taken from
 * or given to the balancer until the caller commits the finished change at once.
 *
 * The previous index is consumed as the diff proceeds (what is left in it at the end departed),
 * so only one diff may run against a given index at a time.
 */
export class EndpointSetDiff {
  readonly #records: readonly Endpoint[];
  readonly #previous: Map<string, MeshEndpoint>;
  readonly #create: (endpoint: Endpoint) => MeshEndpoint;
  readonly #list: MeshEndpoint[] = [];
  readonly #byId = new Map<string, MeshEndpoint>();
  readonly #changed: Array<[MeshEndpoint, Endpoint]> = [];
  #next = 0;
  #added = 0;
  #duplicates = false;

  /**
   * @param records - the validated new set
   * @param previous - the live index by id; emptied of every endpoint the new set keeps
   * @param create - makes the live endpoint for a new record
   */
  constructor(
    records: readonly Endpoint[],
    previous: Map<string, MeshEndpoint>,
    create: (endpoint: Endpoint) => MeshEndpoint,
  ) {
    this.#records = records;
    this.#previous = previous;
    this.#create = create;
  }

  /**
   * Diffs records until done or until `budgetMs` of wall time has passed; returns true when done.
   * Sets of up to 256 records always finish in one call.
   */
  step(budgetMs: number): boolean {
    const records = this.#records;
    this.#next = workSlice(this.#next, records.length, (i) => this.#take(records[i]!), budgetMs);
    return this.#next >= records.length;
  }

  /** The change, once {@link EndpointSetDiff.step} has returned true. */
  result(): EndpointSetChange {
    const departed = [...this.#previous.values()];
    return {
      list: this.#list,
      byId: this.#byId,
      departed,
      changed: this.#changed,
      records: this.#duplicates ? this.#latestRecords() : this.#records,
      differs: this.#added > 0 || departed.length > 0 || this.#changed.length > 0,
    };
  }

  /** One record per id, the last one given, in first-seen order (only when ids repeated). */
  #latestRecords(): Endpoint[] {
    const latest = new Map<MeshEndpoint, Endpoint>(this.#changed);
    return this.#list.map((ep) => latest.get(ep) ?? ep.endpoint);
  }

  #take(record: Endpoint): void {
    const id = record.id;
    const kept = this.#previous.get(id);
    if (kept !== undefined) {
      this.#previous.delete(id);
      this.#byId.set(id, kept);
      this.#list.push(kept);
      if (!sameRecord(kept.endpoint, record)) this.#changed.push([kept, record]);
      return;
    }
    const seen = this.#byId.get(id);
    if (seen !== undefined) {
      // The same id twice in one update: the later record wins, the first position stays.
      this.#duplicates = true;
      if (seen.endpoint !== record) this.#changed.push([seen, record]);
      return;
    }
    const created = this.#create(record);
    this.#byId.set(id, created);
    this.#list.push(created);
    this.#added++;
  }
}

/**
 * Applies a set of changes by id (from a keyed resolver, through the update guard) to the live
 * endpoint set, a slice at a time: the work is proportional to the number of changes, not to the
 * size of the set. Like {@link EndpointSetDiff}, nothing reaches the balancer until the caller
 * commits the result; the live index is updated in place as the patch proceeds.
 */
export class EndpointSetPatch {
  readonly #changes: Array<[string, Endpoint | null]>;
  readonly #live: Map<string, MeshEndpoint>;
  readonly #create: (endpoint: Endpoint) => MeshEndpoint;
  readonly #departed: MeshEndpoint[] = [];
  readonly #changed: Array<[MeshEndpoint, Endpoint]> = [];
  #next = 0;
  #added = 0;

  /**
   * @param changes - the new record by id, `null` for an id that left
   * @param live - the live index by id; endpoints are added to and removed from it
   * @param create - makes the live endpoint for a new record
   */
  constructor(
    changes: ReadonlyMap<string, Endpoint | null>,
    live: Map<string, MeshEndpoint>,
    create: (endpoint: Endpoint) => MeshEndpoint,
  ) {
    this.#changes = [...changes];
    this.#live = live;
    this.#create = create;
  }

  /** Applies changes until done or until `budgetMs` has passed; returns true when done. */
  step(budgetMs: number): boolean {
    const changes = this.#changes;
    this.#next = workSlice(this.#next, changes.length, (i) => this.#take(changes[i]!), budgetMs);
    return this.#next >= changes.length;
  }

  /** The change, once {@link EndpointSetPatch.step} has returned true. */
  result(): EndpointSetChange {
    const differs = this.#added > 0 || this.#departed.length > 0 || this.#changed.length > 0;
    // The whole list is rebuilt only when something changed, once per applied batch.
    const list = differs ? [...this.#live.values()] : [];
    let records: Endpoint[] = [];
    if (differs) {
      const latest = this.#changed.length > 0 ? new Map<MeshEndpoint, Endpoint>(this.#changed) : undefined;
      records = list.map((ep) => latest?.get(ep) ?? ep.endpoint);
    }
    return { list, byId: this.#live, departed: this.#departed, changed: this.#changed, records, differs };
  }

  #take([id, record]: [string, Endpoint | null]): void {
    const kept = this.#live.get(id);
    if (record === null) {
      if (kept === undefined) return;
      this.#live.delete(id);
      this.#departed.push(kept);
      return;
    }
    if (kept !== undefined) {
      if (!sameRecord(kept.endpoint, record)) this.#changed.push([kept, record]);
      return;
    }
    this.#live.set(id, this.#create(record));
    this.#added++;
  }
}
