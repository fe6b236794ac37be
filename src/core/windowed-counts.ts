/**
 * Request and accept counts over a sliding window of fixed buckets, rotated lazily from the
 * clock reading each call passes in (no timer). Totals are kept running, so reading them is O(1).
 */
export class WindowedCounts {
  readonly #requests: Float64Array;
  readonly #accepts: Float64Array;
  readonly #bucketMs: number;
  #index = 0;
  #bucketEnd: number;
  /** Requests in the window. */
  requests = 0;
  /** Accepted requests in the window. */
  accepts = 0;

  /**
   * @param windowMs - window length
   * @param buckets - how many buckets the window is cut into
   * @param now - the clock reading at creation
   */
  constructor(windowMs: number, buckets: number, now: number) {
    this.#requests = new Float64Array(buckets);
    this.#accepts = new Float64Array(buckets);
    this.#bucketMs = windowMs / buckets;
    this.#bucketEnd = now + this.#bucketMs;
  }

  /** Moves the window forward to `now`, dropping buckets that fell out of it. */
  advance(now: number): void {
    if (now < this.#bucketEnd) return;
    const size = this.#requests.length;
    const crossed = Math.floor((now - this.#bucketEnd) / this.#bucketMs) + 1;
    const steps = Math.min(size, crossed);
    for (let i = 0; i < steps; i++) {
      this.#index = (this.#index + 1) % size;
      this.requests -= this.#requests[this.#index]!;
      this.accepts -= this.#accepts[this.#index]!;
      this.#requests[this.#index] = 0;
      this.#accepts[this.#index] = 0;
    }
    this.#bucketEnd += crossed * this.#bucketMs;
  }

  /** Counts one request in the current bucket. */
  addRequest(): void {
    this.#requests[this.#index]!++;
    this.requests++;
  }

  /** Counts one accepted request in the current bucket. */
  addAccept(): void {
    this.#accepts[this.#index]!++;
    this.accepts++;
  }
}
