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
