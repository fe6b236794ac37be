/**
 * Telemetry: OpenTelemetry traces and Prometheus metrics for every mesh request.
 *
 * @packageDocumentation
 */

export type { CompletionListener, RequestCompletion } from './completion-feed.js';
export { CompletionFeed } from './completion-feed.js';
export {
  ATTEMPT_METRICS_LAYER,
  METRICS_LAYER,
  type MetricsLayer,
  type MetricsOptions,
  metrics,
} from './metrics-layer.js';
export { TRACING_LAYER, type TracingOptions, tracing } from './tracing-layer.js';
