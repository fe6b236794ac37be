import type { Timer, Timers } from '../../src/core/time.js';

/** A timer of a {@link ManualClock}. */
interface ManualTimer extends Timer {
  at: number;
  readonly every: number | undefined;
  readonly fire: () => void;
  readonly order: number;
}

/** Lets promise callbacks and I/O callbacks queued so far run (one turn of the event loop). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * {@link Timers} that move only when the test says so: `advance(ms)` moves the time forward and
 * fires, in time order, every timer that comes due, letting the promises they start settle after
 * each. Tests of timer-driven parts (the deadline wheel, the hedge timer, the health ticker)
 * then run without fixed waits and the same way on a loaded machine.
 */
export class ManualClock implements Timers {
  #now: number;
  #timers: ManualTimer[] = [];
  #created = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  /** The current time in ms (bound: it can be handed around as a plain clock). */
  readonly now = (): number => this.#now;

  setTimeout<A>(callback: (arg: A) => void, ms: number, arg: A): Timer {
    return this.#add(callback, ms, arg, undefined);
  }

  setInterval<A>(callback: (arg: A) => void, ms: number, arg: A): Timer {
    return this.#add(callback, ms, arg, Math.max(1, ms));
  }

  clear(timer: Timer | undefined): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
  }

  /** Timers waiting to fire (intervals count until cleared). */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing each timer as its time comes, earliest first. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (let next = this.#due(target); next !== undefined; next = this.#due(target)) {
      this.#now = next.at;
      if (next.every === undefined) this.clear(next);
      else next.at += next.every;
      next.fire();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** The earliest timer due by `target` (the first made among equals). */
  #due(target: number): ManualTimer | undefined {
    let earliest: ManualTimer | undefined;
    for (const t of this.#timers) {
      if (t.at > target) continue;
      if (earliest === undefined || t.at < earliest.at || (t.at === earliest.at && t.order < earliest.order))
        earliest = t;
    }
    return earliest;
  }

  #add<A>(callback: (arg: A) => void, ms: number, arg: A, every: number | undefined): Timer {
    // As Node's timers: a delay below 1 ms is 1 ms.
    const timer: ManualTimer = {
      at: this.#now + Math.max(1, ms),
      every,
      fire: () => callback(arg),
      order: this.#created++,
      unref: () => timer,
    };
    this.#timers.push(timer);
    return timer;
  }
}
