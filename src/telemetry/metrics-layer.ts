import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RequestContext } from '../core/context.js';
import { ErrorCode, isTrellisError, TrellisError } from '../core/errors.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../core/layer.js';
import { invalidLayer, optionKeys, unknownOptions } from '../core/validate.js';

/** The layer name of {@link metrics}. */
export const METRICS_LAYER = 'metrics';

/** Options for {@link metrics}. */
export interface MetricsOptions {
  /** The prom-client registry to register the metrics in (required: yours, not the global one). */
  registry: Registry;
  /**
   * Prefix of every metric name.
   *
   * @defaultValue `trellis_client_`
   */
  prefix?: string;
  /**
   * Latency histogram buckets, in seconds.
   *
   * @defaultValue 1 ms to 10 s
   */
  buckets?: number[];
}

const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Observer = { observe(value: number): void };
type Incrementer = { inc(value?: number): void };

/** Per-service numbers the request path bumps as plain integers; prom-client reads them at scrape. */
interface ServiceCounts {
  readonly name: string;
  requests: number;
  inflight: number;
  readonly latency: Observer;
  readonly failures: Map<string, Incrementer>;
}

const METRICS_KEYS = optionKeys<MetricsOptions>({ registry: true, prefix: true, buckets: true });

/**
 * Prometheus metrics per service (Finagle's client stats), on prom-client:
 *
 * - `<prefix>requests_total{service}`: calls started;
 * - `<prefix>failures_total{service,code}`: calls that failed, by `TrellisError` code, or
 *   `HTTP_5xx` status (for example `HTTP_503`) when the upstream answered with a server error;
 * - `<prefix>request_duration_seconds{service}`: time to the response headers (or the error);
 * - `<prefix>requests_in_flight{service}`: calls started and not yet answered.
 *
 * Cheap per call: the request and in-flight counts are plain numbers that prom-client reads when
 * scraped (`collect`), the latency child is bound per service when the stack is built, and
 * failure children are created once per code. Place it at the top of the stack
 * (`st.prepend(metrics({ registry }))`) to see calls as the caller does. Create one layer per
 * registry and prefix: registering the same names twice is refused.
 *
 * A missing registry or an unknown option is listed by `build()`.
 *
 * @throws `TrellisError` with code `TRELLIS_INVALID_CONFIG` when the registry already holds these
 * metric names.
 */
export function metrics(options: MetricsOptions): Layer {
  const problems = unknownOptions('metrics', options, METRICS_KEYS);
  const registry = options?.registry;
  if (registry === undefined || typeof registry?.registerMetric !== 'function') {
    problems.push('metrics() needs a prom-client Registry: metrics({ registry: new Registry() })');
  }
  if (problems.length > 0) return invalidLayer(METRICS_LAYER, problems);
  const prefix = options.prefix ?? 'trellis_client_';
  const live = new Set<ServiceCounts>();
  let requests: Counter<'service'>;
  let failures: Counter<'service' | 'code'>;
  let latency: Histogram<'service'>;
  try {
    requests = new Counter({
      name: `${prefix}requests_total`,
      help: 'Calls started, per service.',
      labelNames: ['service'],
      registers: [registry],
      collect() {
        for (const counts of live) {
          if (counts.requests === 0) continue;
          this.inc({ service: counts.name }, counts.requests);
          counts.requests = 0;
        }
      },
    });
    failures = new Counter({
      name: `${prefix}failures_total`,
      help: 'Calls that failed, per service and error code (HTTP_5xx for server error answers).',
      labelNames: ['service', 'code'],
      registers: [registry],
    });
    latency = new Histogram({
      name: `${prefix}request_duration_seconds`,
      help: 'Time from the call to its response headers or error, per service.',
      labelNames: ['service'],
      buckets: options.buckets ?? DEFAULT_BUCKETS,
      registers: [registry],
    });
    new Gauge({
      name: `${prefix}requests_in_flight`,
      help: 'Calls started and not yet answered, per service.',
      labelNames: ['service'],
      registers: [registry],
      collect() {
        this.reset();
        for (const counts of live) this.inc({ service: counts.name }, counts.inflight);
      },
    });
  } catch (err) {
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      `metrics() could not register its metrics: ${(err as Error).message}. Create one metrics layer per ` +
        'registry (share it between meshes), or give each a different `prefix`.',
      { cause: err },
    );
  }

  return {
    name: METRICS_LAYER,
    wrap(next: Service, service: ServiceHandle): Service {
      const counts: ServiceCounts = {
        name: service.name,
        requests: 0,
        inflight: 0,
        latency: latency.labels({ service: service.name }),
        failures: new Map(),
      };
      live.add(counts);
      service.onClose(() => {
        // Keep the counts scraped so far; only the live gauge goes away.
        requests.inc({ service: counts.name }, counts.requests);
        live.delete(counts);
      });
      const fail = (code: string): void => {
        let child = counts.failures.get(code);
        if (child === undefined) {
          child = failures.labels({ service: counts.name, code });
          counts.failures.set(code, child);
        }
        child.inc();
      };

      return async function measured(ctx: RequestContext): Promise<MeshResponse> {
        counts.requests++;
        counts.inflight++;
        const started = performance.now();
        try {
          const response = await next(ctx);
          if (response.statusCode >= 500) fail(`HTTP_${response.statusCode}`);
          return response;
        } catch (err) {
          fail(isTrellisError(err) ? err.code : 'UNKNOWN');
          throw err;
        } finally {
          counts.inflight--;
          counts.latency.observe((performance.now() - started) / 1000);
        }
      };
    },
  };
}
