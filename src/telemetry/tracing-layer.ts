import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { RequestContext } from '../core/context.js';
import { isTrellisError } from '../core/errors.js';
import { withHeader } from '../core/headers.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../core/layer.js';
import { invalidLayer, optionKeys, unknownOptions } from '../core/validate.js';

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

const headerSetter: TextMapSetter<RequestContext> = {
  set(ctx, key, value) {
    ctx.headers = withHeader(ctx.headers, key, value);
  },
};

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
 * One OpenTelemetry CLIENT span per logical request (retries and hedges included), named after
 * the HTTP method as the semantic conventions ask, carrying the service, path, chosen endpoint,
 * status code and number of attempts. The span ends when the response headers arrive.
 *
 * With no OpenTelemetry SDK registered, the API's no-op tracer makes this nearly free; the
 * attributes are only built for recording spans.
 */
export function tracing(options: TracingOptions = {}): Layer {
  const problems = unknownOptions('tracing', options, TRACING_KEYS);
  if (problems.length > 0) return invalidLayer(TRACING_LAYER, problems);
  return {
    name: TRACING_LAYER,
    wrap(next: Service, service: ServiceHandle): Service {
      const tracer = options.tracer ?? trace.getTracer('trellis');
      const propagate = options.propagate ?? true;
      const name = service.name;
      return function traced(ctx: RequestContext): Promise<MeshResponse> {
        const span = tracer.startSpan(ctx.method, CLIENT_SPAN);
        // fields() is empty until a propagator is registered: skip building a context for nothing.
        if (propagate && propagation.fields().length > 0)
          propagation.inject(trace.setSpan(context.active(), span), ctx, headerSetter);
        if (!span.isRecording()) {
          // No SDK, or sampled out: the span records nothing, so end it now and pass the request
          // straight down, without an async frame of our own (bench/RESULTS.md, issue 2).
          span.end();
          return next(ctx);
        }
        return recorded(span, ctx);
      };

      async function recorded(span: Span, ctx: RequestContext): Promise<MeshResponse> {
        describe(span, ctx, name);
        try {
          const response = await next(ctx);
          span.setAttribute('http.response.status_code', response.statusCode);
          if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
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
  };
}
