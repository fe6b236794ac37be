/** A record a {@link FreeList} can hold: it links to the next free one while it is idle. */
export interface Reusable<T> {
  /** The next idle record; undefined while the record is in use. */
  nextFree: T | undefined;
}

/**
 * A bounded free list of per-call records that layers reuse instead of allocating one per
 * request (a layer's interception of a call, a fused run's frame). A record is given back
 * once its call is over; at most `limit` idle records are kept, so a burst leaves no more behind.
 */
export class FreeList<T extends Reusable<T>> {
  #head: T | undefined = undefined;
  #size = 0;
  readonly #make: () => T;
  readonly #limit: number;

  /**
   * @param make - makes a new record when none is idle
   * @param limit - idle records kept at most
   */
  constructor(make: () => T, limit = 1024) {
    this.#make = make;
    this.#limit = limit;
  }

  /** An idle record, or a new one. */
  take(): T {
    const record = this.#head;
    if (record === undefined) return this.#make();
    this.#head = record.nextFree;
    record.nextFree = undefined;
    this.#size--;
    return record;
  }

  /** Gives back a record whose call is over; the caller has cleared what it held. */
  give(record: T): void {
    if (this.#size >= this.#limit) return;
    record.nextFree = this.#head;
    this.#head = record;
    this.#size++;
  }
}
