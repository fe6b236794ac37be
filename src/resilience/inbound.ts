import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CancelToken } from '../core/cancel-token.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { optionKeys, refuseUnknownOptions } from '../core/validate.js';
import { MAX_TIMEOUT_MS, parseTimeoutHeader, TIMEOUT_HEADER, UNPROCESSED_HEADER } from './timeout-header.js';

/**
 * What the mesh knows about the inbound request being handled: its deadline and a signal that
 * fires when the caller goes away. Every mesh call made while handling it inherits both.
 */
export interface InboundScope {
  /** Absolute deadline in `performance.now()` ms; `Infinity` when the caller sent none. */
  readonly deadline: number;
  /** Fires when the inbound request is aborted before its response is finished. */
  readonly signal: CancelToken;
}

/** Options for the server-side deadline helpers. */
export interface InboundOptions {
  /** Upper bound on an inbound timeout, in ms (larger values are clamped); one day by default. */
  maxTimeoutMs?: number;
  /** Timeout for requests that carry no (usable) timeout header, in ms; none by default. */
  defaultTimeoutMs?: number;
}

const INBOUND_KEYS = optionKeys<InboundOptions>({ maxTimeoutMs: true, defaultTimeoutMs: true });

// Created at load time but enabled by Node only on the first `run`, so processes that never
// use the server helpers pay nothing. On Node 20 an enabled storage adds ~100 ns to every await in
// the process (bench/micro/async-local-storage.mjs); on Node 24 it costs nothing measurable.
const storage = new AsyncLocalStorage<InboundScope>();

/** The scope of the inbound request being handled, if a server helper established one. */
export function currentInbound(): InboundScope | undefined {
  return storage.getStore();
}

function inboundScope(req: IncomingMessage, res: ServerResponse, options: InboundOptions): InboundScope {
  const header = parseTimeoutHeader(req.headers[TIMEOUT_HEADER], options.maxTimeoutMs ?? MAX_TIMEOUT_MS);
  const timeout = header ?? options.defaultTimeoutMs;
  const signal = new CancelToken();
  res.once('close', () => {
    if (!res.writableFinished) {
      signal.abort(
        new TrellisError(
          ErrorCode.Aborted,
          `The inbound request ${req.method} ${req.url} was aborted by its caller, so the calls made for it were cancelled.`,
        ),
      );
    }
  });
  return { deadline: timeout === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeout, signal };
}

/**
 * Runs `fn` inside the deadline scope of an inbound request: the remaining time from the
 * `trellis-timeout-ms` header (garbage ignored, huge values clamped) and cancellation when the
 * caller disconnects. Mesh calls made inside inherit both. The building block of the adapters.
 */
export function runInbound<T>(
  req: IncomingMessage,
  res: ServerResponse,
  fn: () => T,
  options: InboundOptions = {},
): T {
  return storage.run(inboundScope(req, res, options), fn);
}

/**
 * Wraps a `node:http` request handler so that every mesh call it makes inherits the inbound
 * request's deadline and is cancelled when the inbound request is aborted.
 *
 * @example
 * ```ts
 * http.createServer(withInboundDeadline(async (req, res) => {
 *   const upstream = await mesh.request({ service: 'users', path: '/v1/users/42' });
 *   res.end(await upstream.body.text());
 * }));
 * ```
 */
export function withInboundDeadline<Req extends IncomingMessage, Res extends ServerResponse>(
  handler: (req: Req, res: Res) => unknown,
  options: InboundOptions = {},
): (req: Req, res: Res) => unknown {
  refuseUnknownOptions('withInboundDeadline', options, INBOUND_KEYS);
  return (req, res) => runInbound(req, res, () => handler(req, res), options);
}

/**
 * Connect/Express middleware doing what {@link withInboundDeadline} does; register it before
 * the routes that call the mesh: `app.use(inboundDeadlineMiddleware())`.
 */
export function inboundDeadlineMiddleware(
  options: InboundOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  refuseUnknownOptions('inboundDeadlineMiddleware', options, INBOUND_KEYS);
  return (req, res, next) => runInbound(req, res, () => next(), options);
}

/**
 * A Fastify `onRequest` hook doing what {@link withInboundDeadline} does:
 * `fastify.addHook('onRequest', fastifyInboundDeadline())`. Typed structurally, so trellis does
 * not depend on Fastify.
 */
export function fastifyInboundDeadline(
  options: InboundOptions = {},
): (request: { raw: IncomingMessage }, reply: { raw: ServerResponse }, done: () => void) => void {
  refuseUnknownOptions('fastifyInboundDeadline', options, INBOUND_KEYS);
  return (request, reply, done) => runInbound(request.raw, reply.raw, done, options);
}

/**
 * Answers 503 with the `trellis-unprocessed` header: the documented promise that the request
 * was not processed at all, so a trellis client may retry it elsewhere even when it is not
 * idempotent. Send it only before doing any work for the request (for example when shedding
 * load). `retryAfterSeconds` adds a `Retry-After` header, which clients honour.
 */
export function rejectUnprocessed(res: ServerResponse, retryAfterSeconds?: number): void {
  res.statusCode = 503;
  res.setHeader(UNPROCESSED_HEADER, '1');
  if (retryAfterSeconds !== undefined)
    res.setHeader('retry-after', String(Math.max(0, Math.ceil(retryAfterSeconds))));
  res.end();
}
