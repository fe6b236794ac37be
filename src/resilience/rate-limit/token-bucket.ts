import type { Clock } from '../../core/time.js';

/**
 * A token bucket: holds up to `burst` tokens and refills at `ratePerSecond`, lazily from the
 * clock (no timer). Each call takes one token or is refused.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  /**
   * @param ratePerSecond - refill rate
   * @param burst - capacity; the bucket starts full
   * @param clock - time source in ms
   */
  constructor(ratePerSecond: number, burst: number, clock: Clock) {
    this.#perMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock();
  }

  /** Tokens available now. */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token will be available (0 if one is). */
  msUntilToken(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#perMs;
  }

  #refill(): void {
    const now = this.#clock();
    if (now > this.#last) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs);
      this.#last = now;
    }
  }
}
