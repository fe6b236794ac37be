/**
 * Exact latency histogram counts kept in a typed array: the request path adds one to one bucket
 * (a short scan over the bounds, no allocation), and the scrape hands prom-client the
 * cumulative counts, the sum and the count, as its own `Histogram` would have them.
 */
export class LatencyHistogram {
  /** Upper bounds in seconds, ascending; the last, implicit bucket is `+Inf`. */
  readonly bounds: Float64Array;
  /** Observations per bucket (not cumulative); index `bounds.length` is the `+Inf` bucket. */
  readonly counts: Float64Array;
  /** Sum of all observations, in seconds. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  /** @param bounds - the bucket bounds in seconds, shared by every histogram of one family */
  constructor(bounds: Float64Array) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Counts one observation of `seconds`. */
  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Adds another histogram's observations (same bounds) into this one. */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.sum += other.sum;
    this.count += other.count;
  }

  /** Forgets every observation. */
  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** Validates and freezes bucket bounds: finite, positive, strictly ascending. */
export function bucketBounds(seconds: readonly number[]): Float64Array | string {
  if (!Array.isArray(seconds) || seconds.length === 0) return 'buckets must be a non-empty array of seconds';
  for (let i = 0; i < seconds.length; i++) {
    const bound = seconds[i];
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= 0)
      return `buckets must be finite numbers of seconds > 0, got ${JSON.stringify(bound)}`;
    if (i > 0 && bound <= seconds[i - 1]!) return 'buckets must be strictly ascending';
  }
  return Float64Array.from(seconds);
}

/**
 * The quantile `q` (0 to 1) of per-bucket counts (not cumulative; the last is `+Inf`), by linear
 * interpolation inside its bucket as Prometheus' `histogram_quantile` does, in the bounds' unit;
 * `NaN` without observations. An answer in the `+Inf` bucket is the highest bound.
 */
export function histogramQuantile(counts: Float64Array, bounds: Float64Array, q: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i]!;
    if (inBucket > 0 && seen + inBucket >= rank) {
      if (i === bounds.length) return bounds[i - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return bounds[bounds.length - 1]!;
}
