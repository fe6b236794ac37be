import { type Clock, systemTimers, type Timer, type Timers, timersOf } from '../core/time.js';

/**
 * Something that must be told when its deadline passes. The wheel links its entries into its
 * slots' lists through these fields (an intrusive list: adding and removing an entry allocates
 * nothing); only the wheel touches them.
 */
export abstract class WheelEntry {
  /** The absolute slot the entry waits in, or -1 when it is not in the wheel. */
  wheelSlot = -1;
  wheelPrev: WheelEntry | undefined = undefined;
  wheelNext: WheelEntry | undefined = undefined;

  /** Called once, on the wheel's tick, when the deadline has passed. */
  abstract expire(): void;
}

/** Wheel slot width in ms: deadlines fire at most this much (plus event-loop delay) late. */
const SLOT_MS = 4;
/** Slots in the ring (a power of two): one turn is 4096 × 4 ms ≈ 16 s. */
const RING_SIZE = 4096;
const RING_MASK = RING_SIZE - 1;
/** `wheelSlot` of an entry taken out of its slot to be expired on this tick. */
const EXPIRING = -2;

/**
 * One shared ticking timer for every request deadline, instead of a `setTimeout` per request:
 * a hashed timing wheel. Deadlines are grouped in 4 ms slots; slot `n` lives in ring position
 * `n mod 4096`, in a doubly linked list threaded through the entries themselves, so adding and
 * removing a deadline is a few pointer writes with no allocation (a `Map` of `Set`s per slot,
 * as before, grew and rehashed its tables under load, which made garbage collection half of a
 * timed request's CPU). A deadline more than one turn away shares its position with nearer
 * ones and is skipped until its own turn comes. While any deadline is pending, an unref'd
 * interval walks the slots that have come due; once nothing is pending, the next tick stops it.
 */
export class DeadlineWheel {
  readonly #ring: Array<WheelEntry | undefined> = new Array<WheelEntry | undefined>(RING_SIZE).fill(
    undefined,
  );
  #pending = 0;
  /** The next absolute slot to walk. */
  #cursor = 0;
  #timer: Timer | undefined = undefined;
  /** The entries of the slot being expired, reused from tick to tick. */
  readonly #due: WheelEntry[] = [];
  readonly #timers: Timers;

  /**
   * @param clock - the clock deadlines are on and the interval runs on (`performance.now()` and
   *   Node's timers by default); a test may pass a plain clock and tick by hand, or whole timers
   */
  constructor(clock: Clock | Timers = systemTimers) {
    this.#timers = timersOf(clock);
  }

  /** Schedules `entry` to expire at `deadline` (ms on the wheel's clock, `performance.now()` by default). */
  add(entry: WheelEntry, deadline: number): void {
    if (this.#timer === undefined) this.#start();
    let slot = Math.ceil(deadline / SLOT_MS);
    if (slot < this.#cursor) slot = this.#cursor;
    const at = slot & RING_MASK;
    const head = this.#ring[at];
    entry.wheelSlot = slot;
    entry.wheelPrev = undefined;
    entry.wheelNext = head;
    if (head !== undefined) head.wheelPrev = entry;
    this.#ring[at] = entry;
    this.#pending++;
  }

  /** Cancels a scheduled expiry (a no-op if it already fired or was never added). */
  remove(entry: WheelEntry): void {
    if (entry.wheelSlot === EXPIRING) {
      entry.wheelSlot = -1; // released by another entry's expiry on this tick: not told
      return;
    }
    if (entry.wheelSlot < 0) return;
    this.#unlink(entry);
    this.#pending--;
    // The timer is stopped by the next tick, not here, so steady traffic does not re-arm it per request.
  }

  /** Deadlines waiting to fire. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether the wheel's interval is running. */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  #unlink(entry: WheelEntry): void {
    const { wheelPrev: prev, wheelNext: next } = entry;
    if (prev === undefined) this.#ring[entry.wheelSlot & RING_MASK] = next;
    else prev.wheelNext = next;
    if (next !== undefined) next.wheelPrev = prev;
    entry.wheelSlot = -1;
    entry.wheelPrev = entry.wheelNext = undefined;
  }

  #start(): void {
    this.#cursor = Math.floor(this.#timers.now() / SLOT_MS);
    this.#timer = this.#timers.setInterval(tick, SLOT_MS, this);
    this.#timer.unref();
  }

  #stop(): void {
    this.#timers.clear(this.#timer);
    this.#timer = undefined;
  }

  /** Expires everything in the slots that have come due. */
  tick(): void {
    const due = Math.floor(this.#timers.now() / SLOT_MS);
    // Behind by a turn or more (a long stall): each ring position is walked once.
    const last = Math.min(due, this.#cursor + RING_SIZE - 1);
    for (; this.#cursor <= last; this.#cursor++) this.#expireAt(this.#cursor & RING_MASK, due);
    if (this.#cursor <= due) this.#cursor = due + 1;
    if (this.#pending === 0) this.#stop();
  }

  /**
   * Takes the due entries out of one ring position, then expires them: an expiry may release
   * other deadlines (a parent call's abort ends its children), so the list is not walked while
   * entries are told. A due entry released by an earlier one's expiry is not told.
   */
  #expireAt(at: number, dueSlot: number): void {
    const expiring = this.#due;
    for (let entry = this.#ring[at]; entry !== undefined; ) {
      const next = entry.wheelNext;
      if (entry.wheelSlot <= dueSlot) {
        this.#unlink(entry);
        this.#pending--;
        entry.wheelSlot = EXPIRING;
        expiring.push(entry);
      }
      entry = next;
    }
    for (let i = 0; i < expiring.length; i++) {
      const entry = expiring[i] as WheelEntry;
      if (entry.wheelSlot !== EXPIRING) continue; // released, or released and added again
      entry.wheelSlot = -1;
      entry.expire();
    }
    expiring.length = 0;
  }
}

function tick(wheel: DeadlineWheel): void {
  wheel.tick();
}

/** The wheel all deadline layers of the process share. */
export const deadlineWheel = new DeadlineWheel();
