import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { isFailedStatus } from '../core/failure-flags.js';
import { optionKeys, refuseUnknownOptions } from '../core/validate.js';

/** Options for {@link withServerSpan}. */
export interface ServerSpanOptions {
  /** The tracer to use; by default the global provider's `trellis` tracer. */
  tracer?: Tracer;
}

const SERVER_SPAN_KEYS = optionKeys<ServerSpanOptions>({ tracer: true });

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

function ended(span: Span, res: ServerResponse): void {
  span.setAttribute('http.response.status_code', res.statusCode);
  if (isFailedStatus(res.statusCode)) span.setStatus({ code: SpanStatusCode.ERROR });
  if (!res.writableFinished) span.setAttribute('error.type', 'aborted');
  span.end();
}

/**
 * Wraps a `node:http` request handler so each inbound request gets an OpenTelemetry SERVER
 * span, child of the caller's span (its `traceparent`, read with the global propagator), and
 * runs the handler inside it: mesh calls the handler makes become children of the server span,
 * so one trace runs through every service. The span ends when the response is finished or the
 * connection closes. Compose it with the deadline adapter:
 * `http.createServer(withServerSpan(withInboundDeadline(handler)))`.
 */
export function withServerSpan<Req extends IncomingMessage, Res extends ServerResponse>(
  handler: (req: Req, res: Res) => unknown,
  options: ServerSpanOptions = {},
): (req: Req, res: Res) => unknown {
  refuseUnknownOptions('withServerSpan', options, SERVER_SPAN_KEYS);
  const tracer = options.tracer ?? trace.getTracer('trellis');
  return (req, res) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers, headerGetter);
    const span = tracer.startSpan(req.method ?? 'GET', { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      span.setAttribute('http.request.method', req.method ?? 'GET');
      span.setAttribute('url.path', query < 0 ? url : url.slice(0, query));
      if (query >= 0) span.setAttribute('url.query', url.slice(query + 1));
      span.setAttribute('network.protocol.version', req.httpVersion);
      res.once('close', () => ended(span, res));
    }
    return context.with(trace.setSpan(parent, span), handler, undefined, req, res);
  };
}
