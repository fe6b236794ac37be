import { abortReason, isAborted, offAbort, onAbort, type SignalLike } from './cancel-token.js';

/**
 * Time for the whole mesh: one clock type, one random source type and one cancellable sleep,
 * so that layers, balancers and resolvers can all be driven by hand in tests.
 */

/**
 * A monotonic clock in milliseconds. Layers and balancers take one as an option so tests can
 * drive time by hand; the default is `performance.now`.
 */
export type Clock = () => number;

/** The default {@link Clock}: `performance.now()`, the same time base as `RequestContext.deadline`. */
export const monotonicClock: Clock = () => performance.now();

/** The same clock as {@link monotonicClock}, under the name the balancers entry point has always exported. */
export const monotonicNow: Clock = monotonicClock;

/** A source of uniform random numbers in [0, 1) (`Math.random` by default); injectable so tests can seed it. */
export type Random = () => number;

/** The same type as {@link Random}, under the name the balancers entry point has always exported. */
export type RandomSource = Random;

/**
 * A small, fast seeded generator (mulberry32) for deterministic tests and simulations. Not for
 * anything security related.
 *
 * @param seed - any 32-bit integer; the same seed gives the same sequence
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as `signal` fires. The timer is
 * cleared either way, so nothing outlives the wait.
 */
export function sleep(ms: number, signal: SignalLike | undefined): Promise<void> {
  if (signal === undefined) return new Promise<void>((resolve) => setTimeout(resolve, ms));
  if (isAborted(signal)) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const cancel = () => {
      clearTimeout(timer);
      offAbort(signal, cancel);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      offAbort(signal, cancel);
      resolve();
    }, ms);
    onAbort(signal, cancel);
  });
}

/** A timer from {@link Timers}: cancel it with {@link Timers.clear}. */
export interface Timer {
  /** Lets the process exit while the timer is pending (as Node's `Timeout.unref`); returns the timer. */
  unref(): Timer;
}

/**
 * A clock that can also wake you: the time (`now`, the same time base as {@link Clock}) and
 * timers on that time base. Components with timers of their own (the health layer's ticker, the
 * hedge layer's backup timer, the deadline wheel) take one, so a test can move time by hand
 * instead of waiting; the default is `performance.now` with Node's own timers.
 */
export interface Timers {
  /** The current time in ms; called on its own (as a {@link Clock}), so it must not need `this`. */
  readonly now: Clock;
  /** Calls `callback(arg)` once, `ms` from now. */
  setTimeout<A>(callback: (arg: A) => void, ms: number, arg: A): Timer;
  /** Calls `callback(arg)` every `ms` from now on, until cleared. */
  setInterval<A>(callback: (arg: A) => void, ms: number, arg: A): Timer;
  /** Cancels a timer of either kind; a no-op for `undefined` or a timer that has fired. */
  clear(timer: Timer | undefined): void;
}

/**
 * The real {@link Timers}: `performance.now()` and Node's own timers, called directly (no
 * wrapper), so a component using the default costs what calling them itself would.
 */
export const systemTimers: Timers = {
  now: monotonicClock,
  setTimeout,
  setInterval,
  // Node's clearTimeout clears intervals too; the timers it is given are the Timeouts made above.
  clear: clearTimeout as Timers['clear'],
};

/**
 * The {@link Timers} a component uses for a `clock` option that may be a plain {@link Clock}
 * (time only: the timers stay real) or a whole {@link Timers}.
 */
export function timersOf(clock: Clock | Timers | undefined): Timers {
  if (clock === undefined) return systemTimers;
  if (typeof clock === 'function') return { ...systemTimers, now: clock };
  return clock;
}
