import type { Random } from './time.js';

/**
 * The doubling cap for retry number `retry`: `baseMs` for the first, twice that for the second,
 * never more than `maxMs`. The exponent stops at 52, where doubling has long passed any cap, so a
 * `baseMs` of 0 stays 0 (0 × 2^1024 would be NaN).
 */
function backoffCap(retry: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(52, Math.max(0, retry - 1)));
}

/**
 * Exponential backoff with jitter: a random wait between `(1 - jitter)` of the doubling cap and
 * the cap itself. With `jitter` 1 ("full jitter", the default) the wait is anywhere from 0 to the
 * cap, which spreads retries from many clients best; a smaller `jitter` keeps a floor under the
 * wait, which a long-lived watch reconnecting to a server that is down wants, so it never spins.
 *
 * @param retry - 1 for the first retry
 * @param baseMs - cap for the first retry
 * @param maxMs - cap for any retry
 * @param random - a number in [0, 1)
 * @param jitter - the share of the cap that is random, in [0, 1]
 */
export function jitteredBackoff(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: number,
  jitter = 1,
): number {
  return backoffCap(retry, baseMs, maxMs) * (1 - jitter + jitter * random);
}

/** Options for a {@link Backoff}. */
export interface BackoffOptions {
  /** Cap of the first wait, in ms (it doubles with each failure in a row). */
  baseMs: number;
  /** Cap of any wait, in ms. */
  maxMs: number;
  /**
   * The share of each wait's cap that is random, in [0, 1]; see {@link jitteredBackoff}.
   *
   * @defaultValue 1
   */
  jitter?: number;
  /**
   * Source of randomness.
   *
   * @defaultValue `Math.random`
   */
  random?: Random;
}

/**
 * The waits of a loop that retries until something works (a watch reconnecting, a registration
 * re-trying): each {@link Backoff.next} is the {@link jitteredBackoff} wait for one more failure
 * in a row; {@link Backoff.reset} after a success starts again from `baseMs`.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #random: Random;
  #failures = 0;

  /** @param options - the caps, the jitter and the random source */
  constructor(options: BackoffOptions) {
    this.#baseMs = options.baseMs;
    this.#maxMs = options.maxMs;
    this.#jitter = options.jitter ?? 1;
    this.#random = options.random ?? Math.random;
  }

  /** The wait in ms after one more failure in a row. */
  next(): number {
    // Counting stops where the cap no longer grows, so a loop failing for days cannot overflow.
    if (backoffCap(this.#failures, this.#baseMs, this.#maxMs) < this.#maxMs) this.#failures++;
    return jitteredBackoff(this.#failures, this.#baseMs, this.#maxMs, this.#random(), this.#jitter);
  }

  /** Forgets the failures: the next wait is capped at `baseMs` again. */
  reset(): void {
    this.#failures = 0;
  }
}

const DELTA_SECONDS = /^\d{1,10}$/;

/**
 * Reads a `Retry-After` header (delta-seconds or an HTTP date) as a wait in ms. The value comes
 * from the network: anything unparsable is ignored (`undefined`), dates in the past mean 0.
 *
 * @param value - the header value
 * @param nowMs - wall-clock time (`Date.now()`), for HTTP dates
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  if (value === undefined || Array.isArray(value)) return undefined;
  const trimmed = value.trim();
  if (DELTA_SECONDS.test(trimmed)) return Number(trimmed) * 1000;
  if (trimmed.length < 20 || trimmed.length > 40) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
