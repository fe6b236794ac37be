import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { EndpointView } from './endpoint.js';
import { getHeader, type HeaderBag } from './headers.js';
import { stepNow } from './step-clock.js';

/** A request body the transport can send. Streams are sent as they are read, never buffered. */
export type RequestBody =
  | string
  | Buffer
  | Uint8Array
  | Readable
  | AsyncIterable<Uint8Array>
  | null
  | undefined;

/** Methods RFC 9110 (section 9.2.2) defines as idempotent. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** True for a method RFC 9110 calls idempotent. */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/** True when the headers carry a non-blank `Idempotency-Key`: an empty key promises nothing. */
function hasIdempotencyKey(headers: HeaderBag): boolean {
  const key = getHeader(headers, 'idempotency-key');
  return key !== undefined && key.trim() !== '';
}

/**
 * A cancellation signal in the EventEmitter style, as undici accepts one: it emits `'abort'` and
 * then has `aborted` set and the error in `reason`. Any Node `EventEmitter` fits (the resilience
 * layers' `CancelToken` is one); the dispatcher front-end gives requests a lighter object of this
 * shape. Layers that listen to a request's signal should use only these members.
 */
export interface AbortEmitter {
  /** True once the signal has fired. */
  readonly aborted?: boolean;
  /** Why it fired. */
  readonly reason?: unknown;
  /** Adds an `'abort'` listener. */
  on(event: 'abort', listener: () => void): unknown;
  /** The same as `on`, which undici calls. */
  addListener(event: 'abort', listener: () => void): unknown;
  /** Removes an `'abort'` listener. */
  removeListener(event: 'abort', listener: () => void): unknown;
}

/**
 * Per-attempt facts a layer writes into a request (the deadline layer's remaining-time header),
 * refreshed before each later attempt by the layers that send a request again (retry, hedge):
 * they call {@link RequestContext.stamp} and need not know which layer set it.
 */
export interface AttemptStamp {
  /** Brings `ctx` up to date for an attempt that starts now (a retry, or a backup's own context). */
  restamp(ctx: RequestContext): void;
}

/** What a caller sets on a {@link RequestContext} when creating one. */
export interface RequestContextInit {
  /** Logical service name. */
  service: string;
  /** HTTP method; `GET` by default. */
  method?: string;
  /** Path with query string, starting with `/`. */
  path: string;
  /** Request headers. */
  headers?: HeaderBag;
  /** Request body. */
  body?: RequestBody;
  /** Cancels the request when aborted. */
  signal?: AbortSignal | AbortEmitter;
  /** Absolute deadline in `performance.now()` milliseconds; `Infinity` for none. */
  deadline?: number;
  /** Time limit for the whole request in ms, from now (ignored when `deadline` is given). */
  timeout?: number;
  /** Overrides idempotency detection (method and `Idempotency-Key`). */
  idempotent?: boolean;
  /**
   * The route template the call belongs to, for per-route metrics (`'GET /users/:id'`): a
   * bounded name, never the raw path.
   */
  route?: string;
}

/**
 * Everything about one request that the layers of a stack may read or change: the logical
 * service, the HTTP request itself, its deadline, the attempt number, whether it is idempotent,
 * and the endpoint the balancer chose.
 *
 * The context is not undici's options object: the transport builds those field by field for
 * each attempt (the context's `idempotent` means "may be sent again", undici's controls
 * pipelining).
 */
export class RequestContext {
  /** Logical service name. */
  service: string;
  /** HTTP method (upper case). */
  method: Dispatcher.HttpMethod;
  /** Path with query string. */
  path: string;
  /** Request headers; replace, do not mutate, when a layer adds one (see `withHeader`). */
  headers: HeaderBag;
  /** Request body. */
  body: RequestBody;
  /** The caller's cancellation signal, if any. */
  signal: AbortSignal | AbortEmitter | undefined;
  /** Absolute deadline in `performance.now()` milliseconds; `Infinity` when there is none. */
  deadline: number;
  /** The route template the caller named, for per-route metrics; `undefined` when none. */
  route: string | undefined;
  /** Whether the request may be sent more than once (RFC 9110 method, `Idempotency-Key`, or the caller's say). */
  idempotent: boolean;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt = 1;
  /** The endpoint chosen for the current attempt (set by the balance layer). */
  endpoint: EndpointView | undefined = undefined;
  /**
   * An endpoint the balance layer should not pick for this attempt when another is available
   * (set by retries and backup requests to the endpoint that just failed or is still busy).
   */
  avoid: EndpointView | undefined = undefined;
  /** True on a backup request's context (set by the hedge layer), for per-attempt telemetry. */
  backup = false;
  /**
   * What to refresh before a later attempt (set by the deadline layer when it sends the
   * remaining time); `undefined` when nothing is.
   */
  stamp: AttemptStamp | undefined = undefined;
  /** Per-attempt limit on waiting for response headers, in ms (undici's option). */
  headersTimeout: number | undefined = undefined;
  /** Per-attempt limit on gaps between body chunks, in ms (undici's option). */
  bodyTimeout: number | undefined = undefined;
  /** Close the connection after this request (undici's `reset`: sends `connection: close`). */
  reset = false;
  /**
   * undici's `blocking`: no request is pipelined behind this one on its connection until its
   * headers arrive; undefined for undici's default (every method but HEAD).
   */
  blocking: boolean | undefined = undefined;
  /** undici's `expectContinue`: over HTTP/2, send `expect: 100-continue` and hold the body until the 100. */
  expectContinue = false;
  /** undici's `typeOfService`: the IP type of service (0 to 255) its connection's socket is set to. */
  typeOfService: number | undefined = undefined;
  /**
   * Set by the dispatcher front-end (`mesh.fetch`, `setGlobalDispatcher`): the transport relays
   * the response to the caller's undici handler instead of building a stream, and the response
   * `body` layers see offers only {@link ResponseBody}'s members.
   */
  relay = false;

  /** @param init - the request as the caller described it */
  constructor(init: RequestContextInit) {
    this.service = init.service;
    this.method = (init.method ?? 'GET') as Dispatcher.HttpMethod;
    this.path = init.path;
    this.headers = init.headers;
    this.body = init.body;
    this.signal = init.signal;
    this.route = init.route;
    this.deadline =
      init.deadline ?? (init.timeout === undefined ? Number.POSITIVE_INFINITY : stepNow() + init.timeout);
    this.idempotent =
      init.idempotent ?? (IDEMPOTENT_METHODS.has(this.method) || hasIdempotencyKey(init.headers));
  }
}
