import { createContextKey, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import type { RequestContext } from '../core/context.js';
import { withHeader } from '../core/headers.js';
import type { ServiceHandle } from '../core/layer.js';

/** What a recording call span hands its attempts: the same tracer, and whether to propagate. */
export interface AttemptTracing {
  readonly tracer: Tracer;
  readonly propagate: boolean;
}

/**
 * The key under which the per-call span's context carries {@link AttemptTracing} down to the
 * per-attempt layer: attempts are traced only inside a recording call span.
 */
export const ATTEMPT_TRACING = createContextKey('trellis attempt tracing');

/**
 * Services whose stack traces attempts. The attempt layer sits below the call layer, so it is
 * wrapped first and registers here; the call layer then leaves propagation to it and takes the
 * INTERNAL kind, as the HTTP semantic conventions ask of a logical span over several requests.
 */
export const ATTEMPT_TRACED = new WeakSet<ServiceHandle>();

/** Sets propagation headers on a request context without mutating the caller's header object. */
export const headerSetter: TextMapSetter<RequestContext> = {
  set(ctx, key, value) {
    ctx.headers = withHeader(ctx.headers, key, value);
  },
};
