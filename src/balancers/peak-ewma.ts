/**
 * A peak-sensitive exponentially weighted moving average of latency (Finagle's `PeakEwma`,
 * tower's `PeakEwma`). A sample above the estimate replaces it at once, so a slowdown is seen
 * on the first slow response; a sample below it is blended in with weight `1 - exp(-dt/tau)`,
 * so recovery is believed only gradually. While no samples arrive the estimate decays toward
 * zero, which makes an avoided endpoint cheap again after a while so that it gets probed.
 *
 * The blend is bias-corrected, as for any EWMA started from nothing: the starting estimate is
 * a placeholder that the first sample replaces, and while the history is younger than the decay
 * time, samples are averaged over the history there is rather than over `tau`. Without that,
 * the first answers of a fresh process (connection set-up, cold code) would set every estimate
 * for tens of seconds.
 */
export class PeakEwma {
  /** The estimate in ms as of `stamp`. */
  estimateMs: number;
  /** When `estimateMs` was last updated (clock ms). */
  stamp: number;
  /** Position in the arrays of the balancer that last indexed this endpoint (see `PeakEwmaMetric`). */
  position = -1;
  /** Whether the endpoint was ejected at the balancer's last update (its return resets the estimate). */
  ejected = false;
  /** How much history the estimate holds, 0 (none) to 1 (many decay times' worth). */
  #history = 0;

  /**
   * @param initialMs - the starting estimate
   * @param now - the current clock reading
   */
  constructor(initialMs: number, now: number) {
    this.estimateMs = initialMs;
    this.stamp = now;
  }

  /** The estimate decayed to `now`, without changing state. */
  at(now: number, decayMs: number): number {
    const dt = now - this.stamp;
    return dt > 0 ? this.estimateMs * Math.exp(-dt / decayMs) : this.estimateMs;
  }

  /** Adds a latency sample taken at `now`. */
  observe(sampleMs: number, now: number, decayMs: number): void {
    const keep = Math.exp(-Math.max(now - this.stamp, 0) / decayMs);
    const history = this.#history * keep + (1 - keep);
    // `estimateMs * keep` is `at(now)`, without a second exp.
    if (this.#history === 0 || sampleMs > this.estimateMs * keep) {
      this.estimateMs = sampleMs;
    } else {
      // With a full history this is `estimate * keep + sample * (1 - keep)`, Finagle's blend.
      const weight = history > 0 ? (1 - keep) / history : 1;
      this.estimateMs += weight * (sampleMs - this.estimateMs);
    }
    this.#history = history > 0 ? history : Number.MIN_VALUE;
    this.stamp = now;
  }
}
