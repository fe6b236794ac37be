import { type Context, context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestContext } from '../core/context.js';
import { isTrellisError } from '../core/errors.js';
import { isFailedStatus } from '../core/failure-flags.js';
import { type Interceptor, interceptingLayer } from '../core/interceptor.js';
import {
  isEndpointHandle,
  type Layer,
  type MeshResponse,
  type Service,
  type ServiceHandle,
} from '../core/layer.js';
import { ATTEMPT_TRACED, ATTEMPT_TRACING, type AttemptTracing, headerSetter } from './trace-context.js';

/** The layer name of {@link attemptTracing}. */
export const ATTEMPT_TRACING_LAYER = 'tracing-attempt';

/**
 * One OpenTelemetry CLIENT span per attempt (the first, each retry, each backup request), child
 * of the call's span from the `tracing` layer, as the HTTP semantic conventions describe a
 * request sent more than once: the chosen endpoint (`server.address`, `server.port`),
 * `http.request.resend_count` on retries, `trellis.attempt.backup` on backups, and the status.
 * Its context is what the upstream receives as `traceparent`, so the server's span hangs under
 * the attempt that reached it. Goes directly below `balance` (in the default stack). Without a
 * recording call span (no SDK, or sampled out) it passes requests straight down.
 */
export function attemptTracing(): Layer {
  return interceptingLayer({
    name: ATTEMPT_TRACING_LAYER,
    intercept(next: Service, service: ServiceHandle): Interceptor {
      // Built in each endpoint stack: mark the service, which the call-level layer looks up.
      ATTEMPT_TRACED.add(isEndpointHandle(service) ? service.service : service);
      return function tracedAttempt(ctx: RequestContext): Promise<MeshResponse> | undefined {
        const parent = context.active();
        const tracing = parent.getValue(ATTEMPT_TRACING) as AttemptTracing | undefined;
        if (tracing === undefined) return undefined;
        return recorded(tracing, parent, next, ctx);
      };
    },
  });
}

async function recorded(
  tracing: AttemptTracing,
  parent: Context,
  next: Service,
  ctx: RequestContext,
): Promise<MeshResponse> {
  const span = tracing.tracer.startSpan(ctx.method, { kind: SpanKind.CLIENT }, parent);
  span.setAttribute('http.request.method', ctx.method);
  span.setAttribute('url.path', ctx.path);
  if (ctx.attempt > 1) span.setAttribute('http.request.resend_count', ctx.attempt - 1);
  if (ctx.backup) span.setAttribute('trellis.attempt.backup', true);
  const endpoint = ctx.endpoint?.endpoint;
  if (endpoint) {
    span.setAttribute('server.address', endpoint.host);
    span.setAttribute('server.port', endpoint.port);
  }
  const active = trace.setSpan(parent, span);
  if (tracing.propagate && propagation.fields().length > 0) propagation.inject(active, ctx, headerSetter);
  try {
    const response = await context.with(active, next, undefined, ctx);
    span.setAttribute('http.response.status_code', response.statusCode);
    if (isFailedStatus(response.statusCode)) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', String(response.statusCode));
    }
    return response;
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    span.setAttribute('error.type', isTrellisError(err) ? err.code : (err as Error).name);
    throw err;
  } finally {
    span.end();
  }
}
