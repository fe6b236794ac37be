import { optionKeys, refuseUnknownOptions } from './validate.js';

/** Options for a {@link LatencyWindow}. */
export interface LatencyWindowOptions {
  /** The quantile to track, in (0, 1); 0.95 by default. */
  quantile?: number;
  /** Samples older than roughly this are forgotten, in ms; 10 000 by default. */
  windowMs?: number;
  /** How often the quantile is recomputed, in ms; 1000 by default. */
  refreshMs?: number;
  /** Fewer samples than this in the window and no quantile is reported; 100 by default. */
  minSamples?: number;
  /** Clock in ms (for tests); `performance.now` by default. */
  now?: () => number;
}

/** Latencies are kept in 1 ms buckets up to this bound (slower samples count as this). */
const MAX_MS = 2000;

const WINDOW_KEYS = optionKeys<LatencyWindowOptions>({
  quantile: true,
  windowMs: true,
  refreshMs: true,
  minSamples: true,
  now: true,
});

/**
 * A sliding-window latency histogram that answers one quantile in O(1): samples go into 1 ms
 * buckets (1 ms to 2 s, as Finagle's backup-request filter does) of a current and a previous
 * half-window; the quantile is recomputed at most once per `refreshMs`, off the per-sample path.
 */
export class LatencyWindow {
  readonly #quantile: number;
  readonly #halfMs: number;
  readonly #refreshMs: number;
  readonly #minSamples: number;
  readonly #now: () => number;
  #current = new Uint32Array(MAX_MS + 1);
  #previous = new Uint32Array(MAX_MS + 1);
  #currentCount = 0;
  #previousCount = 0;
  #halfStart: number;
  #refreshedAt: number;
  #value = -1;

  /**
   * @param options - quantile, window and refresh period
   * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` for an unknown key.
   */
  constructor(options: LatencyWindowOptions = {}) {
    refuseUnknownOptions('LatencyWindow', options, WINDOW_KEYS);
    this.#quantile = options.quantile ?? 0.95;
    this.#halfMs = (options.windowMs ?? 10_000) / 2;
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#minSamples = options.minSamples ?? 100;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#halfStart = this.#refreshedAt = this.#now();
  }

  /** Records one latency in ms. */
  record(ms: number): void {
    const bucket = ms >= MAX_MS ? MAX_MS : ms > 0 ? Math.ceil(ms) : 0;
    this.#current[bucket]!++;
    this.#currentCount++;
  }

  /** The tracked quantile in ms, or -1 while the window has fewer than `minSamples` samples. */
  value(): number {
    const now = this.#now();
    // Also refresh as soon as the first `minSamples` samples are in, rather than a period later.
    const warmedUp = this.#value < 0 && this.#currentCount + this.#previousCount >= this.#minSamples;
    if (warmedUp || now - this.#refreshedAt >= this.#refreshMs) {
      this.#refreshedAt = now;
      this.#rotate(now);
      this.#value = this.#compute();
    }
    return this.#value;
  }

  #rotate(now: number): void {
    const halves = Math.floor((now - this.#halfStart) / this.#halfMs);
    if (halves <= 0) return;
    this.#halfStart += halves * this.#halfMs;
    const kept = halves === 1 ? this.#current : undefined;
    const spare = this.#previous;
    spare.fill(0);
    if (kept) {
      this.#previous = kept;
      this.#previousCount = this.#currentCount;
    } else {
      this.#current.fill(0);
      this.#previous = this.#current;
      this.#previousCount = 0;
    }
    this.#current = spare;
    this.#currentCount = 0;
  }

  #compute(): number {
    const total = this.#currentCount + this.#previousCount;
    if (total < this.#minSamples || total === 0) return -1;
    const rank = Math.ceil(this.#quantile * total);
    let seen = 0;
    for (let ms = 0; ms <= MAX_MS; ms++) {
      seen += this.#current[ms]! + this.#previous[ms]!;
      if (seen >= rank) return ms;
    }
    return MAX_MS;
  }
}
