import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { RequestContext } from '../core/context.js';
import { isTrellisError } from '../core/errors.js';
import { isFailedStatus } from '../core/failure-flags.js';
import { type Interceptor, interceptingLayer } from '../core/interceptor.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../core/layer.js';
import { invalidLayer, optionKeys, unknownOptions } from '../core/validate.js';
import { ATTEMPT_TRACED, ATTEMPT_TRACING, type AttemptTracing, headerSetter } from './trace-context.js';

/** The layer name of {@link tracing}. */
export const TRACING_LAYER = 'tracing';

/** Options for {@link tracing}. */
export interface TracingOptions {
  /** The tracer to use; by default the global provider's `trellis` tracer. */
  tracer?: Tracer;
  /**
   * Inject the span context into the outgoing headers with the global propagator (W3C
   * `traceparent` when configured). Turn this off when undici's own OpenTelemetry
   * instrumentation already injects, so the header is not sent twice. Default: true.
   */
  propagate?: boolean;
}

const CLIENT_SPAN: SpanOptions = { kind: SpanKind.CLIENT };
const INTERNAL_SPAN: SpanOptions = { kind: SpanKind.INTERNAL };

function describe(span: Span, ctx: RequestContext, service: string): void {
  const attributes: Attributes = {
    'http.request.method': ctx.method,
    'url.path': ctx.path,
    'trellis.service': service,
  };
  span.setAttributes(attributes);
}

function finish(span: Span, ctx: RequestContext): void {
  span.setAttribute('trellis.attempts', ctx.attempt);
  const endpoint = ctx.endpoint?.endpoint;
  if (endpoint) {
    span.setAttribute('server.address', endpoint.host);
    span.setAttribute('server.port', endpoint.port);
  }
  span.end();
}

const TRACING_KEYS = optionKeys<TracingOptions>({ tracer: true, propagate: true });

/**
 * One OpenTelemetry span per logical request (retries and hedges included), named after the
 * HTTP method as the semantic conventions ask, carrying the service, path, chosen endpoint,
 * status code and number of attempts. The span ends when the response headers arrive. With the
 * `tracing-attempt` layer below it (as in the default stack), each attempt gets a CLIENT span of
 * its own under this one, which is then INTERNAL and leaves propagation to the attempts;
 * without it, this span is the CLIENT span and its context is propagated.
 *
 * With no OpenTelemetry SDK registered, the API's no-op tracer makes this nearly free; the
 * attributes are only built for recording spans.
 */
export function tracing(options: TracingOptions = {}): Layer {
  const problems = unknownOptions('tracing', options, TRACING_KEYS);
  if (problems.length > 0) return invalidLayer(TRACING_LAYER, problems);
  return interceptingLayer({
    name: TRACING_LAYER,
    intercept(next: Service, service: ServiceHandle): Interceptor {
      const tracer = options.tracer ?? trace.getTracer('trellis');
      const propagate = options.propagate ?? true;
      const name = service.name;
      // Read at the first request: the endpoint stacks (where an attempt layer sits) are built
      // as discovery adds endpoints, after this layer.
      let perAttempt: boolean | undefined;
      let spanOptions = CLIENT_SPAN;
      const forAttempts: AttemptTracing = { tracer, propagate };
      return function traced(ctx: RequestContext): Promise<MeshResponse> | undefined {
        if (perAttempt === undefined) {
          perAttempt = ATTEMPT_TRACED.has(service);
          spanOptions = perAttempt ? INTERNAL_SPAN : CLIENT_SPAN;
        }
        const span = tracer.startSpan(ctx.method, spanOptions);
        const recording = span.isRecording();
        // fields() is empty until a propagator is registered: skip building a context for nothing.
        // A recording span leaves propagation to its attempts' spans when the stack traces them;
        // a non-recording one still carries the caller's trace context on.
        if (propagate && !(perAttempt && recording) && propagation.fields().length > 0)
          propagation.inject(trace.setSpan(context.active(), span), ctx, headerSetter);
        if (!recording) {
          // No SDK, or sampled out: the span records nothing, so end it now and let the request
          // pass, without an async frame of our own (bench/RESULTS.md, issue 2).
          span.end();
          return undefined;
        }
        return recorded(span, ctx);
      };

      async function recorded(span: Span, ctx: RequestContext): Promise<MeshResponse> {
        describe(span, ctx, name);
        try {
          const active = trace.setSpan(context.active(), span).setValue(ATTEMPT_TRACING, forAttempts);
          const response = await context.with(active, next, undefined, ctx);
          span.setAttribute('http.response.status_code', response.statusCode);
          if (isFailedStatus(response.statusCode)) span.setStatus({ code: SpanStatusCode.ERROR });
          return response;
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          if (isTrellisError(err)) span.setAttribute('error.type', err.code);
          throw err;
        } finally {
          finish(span, ctx);
        }
      }
    },
  });
}
