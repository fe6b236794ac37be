import type { Endpoint } from './endpoint.js';

/**
 * An endpoint set kept by source key (an etcd key, a Kubernetes slice entry), changed one key at
 * a time, at a cost that does not depend on the size of the set. It records which endpoint ids
 * changed since the changes were last taken, so a burst of events on the same key (a flapping
 * registration) leaves one entry, the latest.
 *
 * Several keys may describe the same endpoint id (`host:port`); the record under the smallest key
 * is the one in force, so the result depends only on what the keys hold, not on the order in
 * which they were written.
 */
export class KeyedEndpoints {
  readonly #byKey = new Map<string, Endpoint>();
  /** id → the key whose record is in force. */
  readonly #owner = new Map<string, string>();
  /** id → the other keys holding the same id (rare: only when ids collide). */
  readonly #others = new Map<string, Set<string>>();
  /** id → its record now, or `null` when it left, for each id changed since {@link takeChanges}. */
  #changes = new Map<string, Endpoint | null>();

  /** How many distinct endpoints (ids) the set holds. */
  get size(): number {
    return this.#owner.size;
  }

  /** How many keys the set holds. */
  get keys(): number {
    return this.#byKey.size;
  }

  /** True when some id changed since the last {@link takeChanges}. */
  get changed(): boolean {
    return this.#changes.size > 0;
  }

  /** The record under `key`, if any. */
  get(key: string): Endpoint | undefined {
    return this.#byKey.get(key);
  }

  /** Puts `endpoint` under `key`, replacing what the key held. */
  set(key: string, endpoint: Endpoint): void {
    const old = this.#byKey.get(key);
    this.#byKey.set(key, endpoint);
    if (old !== undefined && old.id !== endpoint.id) this.#release(old.id, key);
    this.#hold(endpoint.id, key, endpoint);
  }

  /** Removes what `key` held; returns false when it held nothing. */
  delete(key: string): boolean {
    const old = this.#byKey.get(key);
    if (old === undefined) return false;
    this.#byKey.delete(key);
    this.#release(old.id, key);
    return true;
  }

  /** The records in force, one per id. */
  *values(): IterableIterator<Endpoint> {
    for (const key of this.#owner.values()) yield this.#byKey.get(key)!;
  }

  /** The changes since the last call, by id (`null`: the id left), and starts a new batch. */
  takeChanges(): Map<string, Endpoint | null> {
    const changes = this.#changes;
    this.#changes = new Map();
    return changes;
  }

  #hold(id: string, key: string, endpoint: Endpoint): void {
    const owner = this.#owner.get(id);
    if (owner === undefined || owner === key) {
      this.#owner.set(id, key);
      this.#changes.set(id, endpoint);
      return;
    }
    let others = this.#others.get(id);
    if (others === undefined) {
      others = new Set();
      this.#others.set(id, others);
    }
    if (key < owner) {
      others.add(owner);
      others.delete(key);
      this.#owner.set(id, key);
      this.#changes.set(id, endpoint);
    } else {
      others.add(key);
    }
  }

  #release(id: string, key: string): void {
    const others = this.#others.get(id);
    if (this.#owner.get(id) !== key) {
      others?.delete(key);
      if (others?.size === 0) this.#others.delete(id);
      return;
    }
    if (others === undefined) {
      this.#owner.delete(id);
      this.#changes.set(id, null);
      return;
    }
    let next: string | undefined;
    for (const other of others) if (next === undefined || other < next) next = other;
    others.delete(next!);
    if (others.size === 0) this.#others.delete(id);
    this.#owner.set(id, next!);
    this.#changes.set(id, this.#byKey.get(next!)!);
  }
}
