/**
 * Telemetry: OpenTelemetry traces for every mesh request.
 *
 * @packageDocumentation
 */
export { TRACING_LAYER, type TracingOptions, tracing } from './tracing-layer.js';
