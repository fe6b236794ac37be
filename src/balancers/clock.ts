/** A monotonic clock in milliseconds (`performance.now()` by default); injectable for tests. */
export type Clock = () => number;

/** A source of uniform random numbers in `[0, 1)` (`Math.random` by default); injectable for tests. */
export type RandomSource = () => number;

/** The default clock: `performance.now()`. */
export const monotonicNow: Clock = () => performance.now();

/**
 * A small, fast seeded generator (mulberry32) for deterministic tests and simulations. Not for
 * anything security related.
 *
 * @param seed - any 32-bit integer; the same seed gives the same sequence
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
