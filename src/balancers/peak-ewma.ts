/**
 * A peak-sensitive exponentially weighted moving average of latency (Finagle's `PeakEwma`,
 * tower's `PeakEwma`). A sample above the estimate replaces it at once, so a slowdown is seen
 * on the first slow response; a sample below it is blended in with weight `1 - exp(-dt/tau)`,
 * so recovery is believed only gradually. While no samples arrive the estimate decays toward
 * zero, which makes an avoided endpoint cheap again after a while so that it gets probed.
 * The starting estimate is only a placeholder: the first real sample replaces it, whatever
 * its value (otherwise a high default would take several decay times to wash out).
 */
export class PeakEwma {
  /** The estimate in ms as of `stamp`. */
  estimateMs: number;
  /** When `estimateMs` was last updated (clock ms). */
  stamp: number;
  /** Whether any real sample has been observed yet. */
  measured = false;

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
    const current = this.at(now, decayMs);
    if (!this.measured || sampleMs > current) {
      this.measured = true;
      this.estimateMs = sampleMs;
    } else {
      const dt = Math.max(now - this.stamp, 0);
      const weight = Math.exp(-dt / decayMs);
      this.estimateMs = this.estimateMs * weight + sampleMs * (1 - weight);
    }
    this.stamp = now;
  }
}
