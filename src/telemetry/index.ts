/**
 * Telemetry: OpenTelemetry traces and Prometheus metrics for every mesh request.
 *
 * @packageDocumentation
 */

export { ATTEMPT_TRACING_LAYER, attemptTracing } from './attempt-tracing-layer.js';
export {
  METRICS_LAYER,
  type MetricsLayer,
  type MetricsOptions,
  metrics,
} from './metrics-layer.js';
export { type ServerSpanOptions, withServerSpan } from './server-span.js';
export { TRACING_LAYER, type TracingOptions, tracing } from './tracing-layer.js';
