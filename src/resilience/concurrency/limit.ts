/**
 * A concurrency limit: how many attempts may be in flight to a service at once. Adaptive limits
 * learn from every finished attempt; a fixed limit ignores the samples.
 */
export interface ConcurrencyLimit {
  /** The current limit (may be fractional; attempts are admitted while fewer than it are in flight). */
  readonly current: number;
  /** Whether the limit learns from samples (when false the layer skips timing attempts). */
  readonly adaptive: boolean;
  /**
   * Reports one finished attempt.
   *
   * @param rttMs - time from sending to the response headers (or the error)
   * @param inflight - attempts in flight when this one started, itself included
   * @param dropped - whether the upstream rejected or dropped it (429, 503, timeout, unreachable)
   */
  onSample(rttMs: number, inflight: number, dropped: boolean): void;
}

/** A fixed limit: the bulkhead's. */
export class FixedLimit implements ConcurrencyLimit {
  readonly adaptive = false;
  /** @param current - the limit */
  constructor(readonly current: number) {}
  onSample(): void {}
}
