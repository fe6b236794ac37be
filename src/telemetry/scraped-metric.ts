import type { Metric, Registry, RegistryContentType } from 'prom-client';

/** Label names and values of one series. */
export type Labels = Record<string, string>;

/** One sample as prom-client formats it (`metricName` for a histogram's `_bucket`, `_sum`, `_count`). */
export interface Sample {
  /** The sample's full name when it differs from the family's (histogram parts). */
  metricName?: string;
  /** Label values. */
  labels: Labels;
  /** The value. */
  value: number;
}

/** How a family's samples are gathered when the registry is scraped. */
export interface ScrapedMetricOptions {
  /** Full metric name. */
  name: string;
  /** Help text. */
  help: string;
  /** Prometheus type. */
  type: 'counter' | 'gauge' | 'histogram';
  /** Label names, as documented. */
  labelNames: readonly string[];
  /** Pushes the family's current samples into `out`. */
  collect(out: Sample[]): void;
  /** Zeroes what the family counts (prom-client's `registry.resetMetrics()`). */
  reset(): void;
}

/**
 * A metric family whose samples are read at scrape time from numbers the request path keeps in
 * typed arrays, registered in the user's prom-client `Registry` next to their own metrics. It
 * has the members prom-client's registry calls on its own metric classes (`get`, `reset`, `name`,
 * `help`, `type`, `aggregator`), so `registry.metrics()`, `getMetricsAsJSON()`, OpenMetrics
 * output, default labels and `Registry.merge` all work on it; nothing is counted through
 * prom-client's label maps on the request path.
 */
class ScrapedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: ScrapedMetricOptions['type'];
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';
  readonly #options: ScrapedMetricOptions;

  constructor(options: ScrapedMetricOptions) {
    this.name = options.name;
    this.help = options.help;
    this.type = options.type;
    this.labelNames = options.labelNames;
    this.#options = options;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    this.#options.collect(values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#options.reset();
  }
}

/**
 * Registers a scraped family in `registry`.
 *
 * @throws the registry's own error when the name is taken
 */
export function registerScraped(
  registry: Registry<RegistryContentType>,
  options: ScrapedMetricOptions,
): void {
  // The registry only calls the members ScrapedMetric has; its type names prom-client's classes.
  registry.registerMetric(new ScrapedMetric(options) as unknown as Metric);
}

/** Pushes a histogram's `_bucket` (cumulative, with `le`), `_sum` and `_count` samples. */
export function histogramSamples(
  out: Sample[],
  name: string,
  labels: Labels,
  bounds: Float64Array,
  counts: Float64Array,
  sum: number,
  count: number,
): void {
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i]!;
    const le = i < bounds.length ? String(bounds[i]) : '+Inf';
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  }
  out.push({ metricName: `${name}_sum`, labels, value: sum });
  out.push({ metricName: `${name}_count`, labels, value: count });
}
