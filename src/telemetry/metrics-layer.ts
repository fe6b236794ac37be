import type { Registry, RegistryContentType } from 'prom-client';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { interceptingLayer } from '../core/interceptor.js';
import type { Layer, ServiceHandle } from '../core/layer.js';
import type { Stack } from '../core/stack.js';
import { optionKeys, unknownOptions } from '../core/validate.js';
import { CallTimerPool } from './call-timer.js';
import { CompletionFeed } from './completion-feed.js';
import { bucketBounds } from './latency-histogram.js';
import { MeshEventCounts } from './mesh-event-counts.js';
import { registerFamilies } from './metric-families.js';
import { registerReadingFamilies } from './reading-families.js';
import { ServiceStats } from './service-stats.js';

/** Whether a stack's layer is a {@link MetricsLayer} (and not another layer that took the name). */
export function isMetricsLayer(layer: Layer | undefined): layer is MetricsLayerReadout {
  return layer !== undefined && 'completions' in layer && 'registry' in layer;
}

/** The layer name of {@link metrics} (per call, on top of the stack). */
export const METRICS_LAYER = 'metrics';

/** Options for {@link metrics}. */
export interface MetricsOptions {
  /** The prom-client registry to register the metrics in (required: yours, not the global one). */
  registry: Registry<RegistryContentType>;
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
  /**
   * Distinct `route` values kept per service; later ones count as route `overflow`.
   *
   * @defaultValue 64
   */
  maxRoutes?: number;
}

const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DEFAULT_MAX_ROUTES = 64;

/** The metrics layer and its registry. */
export interface MetricsLayer extends Layer {
  /** The registry the metrics are in. */
  readonly registry: Registry<RegistryContentType>;
  /** Puts this layer on top of a stack, where it times whole calls. Pass it to `builder.stack(...)`. */
  readonly install: (stack: Stack) => Stack;
}

/**
 * What the mesh's admin endpoint reads from the metrics layer it finds in a stack (see
 * {@link isMetricsLayer}); not part of the public API, which `metrics()` returns as a
 * {@link MetricsLayer}.
 */
export interface MetricsLayerReadout extends MetricsLayer {
  /** Finished calls, for the admin endpoint's tap. */
  readonly completions: CompletionFeed;
  /** The stats of a service, once a mesh has built it. */
  stats(service: string): ServiceStats | undefined;
}

function invalid(message: string, cause?: unknown): TrellisError {
  return new TrellisError(ErrorCode.InvalidConfig, message, cause === undefined ? {} : { cause });
}

const METRICS_KEYS = optionKeys<MetricsOptions>({
  registry: true,
  prefix: true,
  buckets: true,
  maxRoutes: true,
});

/**
 * Prometheus metrics, on prom-client: golden signals per service and per route (requests by
 * outcome and status class, latency to the response headers and to the end of the body, calls in
 * flight, errors by code, bodies that failed after the headers), per endpoint (attempts,
 * failures, bodies cut short, latency estimate, in flight, state), and the mesh's own (retries,
 * retry budget left and exhausted, hedges, breaker state, ejections and returns, endpoints by
 * state, discovery updates and errors, routing rules version and updates). The README lists
 * every name.
 *
 * The request path only adds to numbers in typed arrays (a route is one map lookup, when the
 * call names one); prom-client reads them when the registry is scraped, histogram buckets
 * exactly. The per-endpoint counts are the endpoint's own (`EndpointView.attempts`, `failures`,
 * `bodyFailures`, kept by the balance layer and the transport), read at scrape time too, so the
 * layer adds nothing per attempt. Install it with `builder.stack(m.install)`, which puts it on
 * top of the stack. Create one layer per registry and prefix, and share it between meshes: a
 * service name seen by two meshes has one set of series.
 *
 * An unknown option is listed by `build()` with the configuration's other problems.
 *
 * @throws `TrellisError` with code `TRELLIS_INVALID_CONFIG` when the registry is missing, an
 * option is invalid, or the registry already holds these metric names.
 */
export function metrics(options: MetricsOptions): MetricsLayer {
  const unknown = unknownOptions('metrics', options, METRICS_KEYS);
  const registry = options?.registry;
  if (registry === undefined || typeof registry.registerMetric !== 'function')
    throw invalid('metrics() needs a prom-client Registry: metrics({ registry: new Registry() }).');
  const bounds = bucketBounds(options.buckets ?? DEFAULT_BUCKETS);
  if (typeof bounds === 'string') throw invalid(`metrics(): ${bounds}.`);
  const maxRoutes = options.maxRoutes ?? DEFAULT_MAX_ROUTES;
  if (!Number.isInteger(maxRoutes) || maxRoutes < 0)
    throw invalid(`metrics(): maxRoutes must be an integer >= 0, got ${JSON.stringify(maxRoutes)}.`);
  const services = new Map<string, ServiceStats>();
  try {
    const prefix = options.prefix ?? 'trellis_client_';
    registerFamilies(registry, prefix, services);
    registerReadingFamilies(registry, prefix, services);
  } catch (err) {
    throw invalid(
      `metrics() could not register its metrics: ${(err as Error).message}. Create one metrics layer per ` +
        'registry (share it between meshes), or give each a different `prefix`.',
      err,
    );
  }
  const events = new MeshEventCounts(services);
  const completions = new CompletionFeed();
  const timers = new CallTimerPool(completions);

  const statsFor = (service: ServiceHandle): ServiceStats => {
    let stats = services.get(service.name);
    if (stats === undefined) {
      stats = new ServiceStats(service.name, bounds, maxRoutes);
      services.set(service.name, stats);
    }
    stats.handles.add(service);
    service.onClose(() => {
      stats.handles.delete(service);
    });
    events.listen(service.events);
    return stats;
  };

  const layer: MetricsLayerReadout = {
    // An intercepting layer: in the default stack it shares one step with the layers below it.
    // Each call's pooled timer is its interception.
    ...interceptingLayer({
      name: METRICS_LAYER,
      intercept(_next, service) {
        const stats = statsFor(service);
        return (ctx) => timers.start(stats, ctx);
      },
    }),
    ...(unknown.length > 0 && { validate: () => unknown }),
    registry,
    completions,
    install: (stack) => stack.prepend(layer),
    stats: (service) => services.get(service),
  };
  return layer;
}
