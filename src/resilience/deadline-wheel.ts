/** Something that must be told when its deadline passes. */
export interface Expirable {
  /** Called once, on the wheel's tick, when the deadline has passed. */
  expire(): void;
}

/** Wheel slot width in ms: deadlines fire at most this much (plus event-loop delay) late. */
const SLOT_MS = 4;

/**
 * One shared ticking timer for every request deadline, instead of a `setTimeout` per request
 * (which costs ~0.5 µs to arm and clear; adding to and removing from a slot here costs a fraction
 * of that). Deadlines are grouped in 4 ms slots; while any deadline is pending, an unref'd
 * interval walks the slots that have come due. Once nothing is pending, the next tick stops it.
 */
export class DeadlineWheel {
  readonly #slots = new Map<number, Set<Expirable>>();
  #pending = 0;
  #cursor = 0;
  #timer: NodeJS.Timeout | undefined = undefined;

  /** Schedules `item` to expire at `deadline` (`performance.now()` ms); returns its slot for `remove`. */
  add(item: Expirable, deadline: number): number {
    if (this.#timer === undefined) this.#start();
    let slot = Math.ceil(deadline / SLOT_MS);
    if (slot < this.#cursor) slot = this.#cursor;
    let items = this.#slots.get(slot);
    if (items === undefined) {
      items = new Set();
      this.#slots.set(slot, items);
    }
    items.add(item);
    this.#pending++;
    return slot;
  }

  /** Cancels a scheduled expiry (a no-op if it already fired). */
  remove(item: Expirable, slot: number): void {
    // An emptied slot stays until the tick passes it, so a busy slot is not re-created per request.
    // The timer is stopped by the next tick, not here, so steady traffic does not re-arm it per request.
    if (this.#slots.get(slot)?.delete(item) === true) this.#pending--;
  }

  /** Deadlines waiting to fire. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether the wheel's interval is running. */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  #start(): void {
    this.#cursor = Math.floor(performance.now() / SLOT_MS);
    this.#timer = setInterval(tick, SLOT_MS, this);
    this.#timer.unref();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#slots.clear();
  }

  /** Expires everything in the slots that have come due. */
  tick(): void {
    const due = Math.floor(performance.now() / SLOT_MS);
    for (; this.#cursor <= due; this.#cursor++) {
      const items = this.#slots.get(this.#cursor);
      if (items === undefined) continue;
      this.#slots.delete(this.#cursor);
      this.#pending -= items.size;
      for (const item of items) item.expire();
    }
    if (this.#pending === 0) this.#stop();
  }
}

function tick(wheel: DeadlineWheel): void {
  wheel.tick();
}

/** The wheel all deadline layers of the process share. */
export const deadlineWheel = new DeadlineWheel();
