/** Random draws are integers in [0, RANDOM_RANGE): 30 bits, small enough to stay unboxed in V8. */
export const RANDOM_RANGE = 2 ** 30;

/**
 * The random source of a service's routing decisions: xorshift32 (Marsaglia 2003), returning 30
 * bits at a time. A draw is an integer small enough for V8 to keep unboxed, so a split, mirror
 * or fault decision allocates nothing (a `Math.random()` double crossing a call boundary is a
 * heap allocation). Not for anything security-related.
 */
export class SplitRandom {
  readonly #state = new Uint32Array(1);

  /** @param seed - any integer; a random one by default (tests pass a fixed seed) */
  constructor(seed: number = Math.floor(Math.random() * 2 ** 32)) {
    // xorshift never leaves the all-zero state, so zero is replaced by a fixed odd constant.
    this.#state[0] = seed >>> 0 || 0x9e3779b9;
  }

  /** The next draw, uniform in [0, {@link RANDOM_RANGE}). */
  next(): number {
    let x = this.#state[0]!;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state[0] = x;
    return x >>> 2;
  }
}

/** A share (0 to 1) as a draw threshold: `next() < threshold` holds with that probability. */
export function threshold(share: number): number {
  return Math.round(share * RANDOM_RANGE);
}
