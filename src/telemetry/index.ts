/**
 * Telemetry: OpenTelemetry traces and Prometheus metrics for every mesh request.
 *
 * @packageDocumentation
 */

export { METRICS_LAYER, type MetricsOptions, metrics } from './metrics-layer.js';
export { TRACING_LAYER, type TracingOptions, tracing } from './tracing-layer.js';
