import { Readable } from 'node:stream';
import { type Dispatcher, util } from 'undici';
import { listenForAbort, offAbort, type SignalLike } from '../core/cancel-token.js';
import type { RequestContext } from '../core/context.js';
import type { EndpointView } from '../core/endpoint.js';
import { isFailedStatus } from '../core/failure-flags.js';
import type { Listener, ListenerObject } from '../core/listener-list.js';
import { TransportBody } from './body-readable.js';
import { type ConnectionTenant, leaveConnection, type PooledConnection } from './connection-pool.js';
import type { QueueableHandler, QueuedDispatch } from './dispatch-queue.js';
import { abortQuietly } from './quiet-abort.js';
import { abortedError, toTransportError } from './transport-errors.js';

type RawHeaders = Buffer[];

function noop(): void {}

/**
 * One attempt of `mesh.request()`, as undici's dispatch handler: it answers with undici's own
 * response shape (`statusCode`, `headers`, a `body` stream with `text()`, `json()`, `dump()`),
 * as undici's `request()` does, but the mesh owns the cancellation.
 *
 * The request's signal is listened to here and never handed to undici. When it fires, the
 * caller's promise is settled at once, whatever phase the request is in: while the connection is
 * still being made, while the request waits in a saturated pool's queue, while it waits for the
 * answer. A request already on a connection is aborted through the abort function undici gives
 * the handler; one that is not there yet is refused the moment undici hands it a connection, by
 * throwing from `onConnect` (undici then drops the request and moves on to the next one on that
 * same connection), so an expired request never goes out and never costs a connection.
 */
export class ResponseHandler implements QueueableHandler, ConnectionTenant, ListenerObject {
  /** Its place in a queue while it waits for a connection (see `DispatchQueue`). */
  queued: QueuedDispatch | undefined = undefined;
  /** The pooled connection carrying the request, handed back when the answer ends (see `ConnectionPool`). */
  connection: PooledConnection | null = null;
  readonly #ctx: RequestContext;
  #resolve: ((response: Dispatcher.ResponseData) => void) | undefined;
  #reject: ((err: Error) => void) | undefined;
  #abortUndici: ((err?: Error) => void) | undefined = undefined;
  /** The request's signal and the listener on it (this handler, as a rule), while the attempt listens. */
  #signal: SignalLike | undefined = undefined;
  #onAbort: Listener | undefined = undefined;
  /** Why the attempt was cancelled, once it was. */
  #reason: Error | undefined = undefined;
  #body: TransportBody | undefined = undefined;
  /** The endpoint to tell how the body ended, while an answer below 500 streams its body. */
  #reportTo: EndpointView | undefined = undefined;
  readonly #trailers: Record<string, string> = {};

  constructor(
    ctx: RequestContext,
    resolve: (response: Dispatcher.ResponseData) => void,
    reject: (err: Error) => void,
  ) {
    this.#ctx = ctx;
    this.#resolve = resolve;
    this.#reject = reject;
    const signal = ctx.signal;
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = listenForAbort(signal, this);
    }
  }

  /** The request's signal fired (this handler is its listener: no closure per attempt). */
  handleEvent(): void {
    const signal = this.#signal;
    if (signal !== undefined) this.#cancel(signal.reason);
  }

  #cancel(reason: unknown): void {
    if (this.#reason !== undefined) return;
    const error = abortedError(reason, this.#ctx, this.#abortUndici !== undefined);
    this.#reason = error;
    this.#release();
    const reject = this.#reject;
    if (reject !== undefined) {
      this.#resolve = this.#reject = undefined;
      this.queued?.leave();
      reject(error);
      if (this.#abortUndici !== undefined) abortQuietly(this.#abortUndici, error);
      // A stream body not yet on a connection is released now (without an error, which undici
      // would turn into an abort that closes the connection it is eventually given).
      else if (this.#ctx.body instanceof Readable) this.#ctx.body.destroy();
    } else {
      // The answer has started: cutting its body aborts the request (BodyReadable's abort).
      this.#body?.destroy(error);
    }
  }

  #release(): void {
    if (this.#onAbort === undefined) return;
    offAbort(this.#signal as SignalLike, this.#onAbort);
    this.#signal = this.#onAbort = undefined;
  }

  // ---- undici's handler API (the generation its Client speaks natively) ----

  onConnect(abort: (err?: Error) => void): void {
    // Thrown rather than passed to abort(): undici then drops the request without closing the
    // connection, which is still unused.
    if (this.#reason !== undefined) throw this.#reason;
    this.#abortUndici = abort;
  }

  onHeaders(statusCode: number, rawHeaders: RawHeaders, resume: () => void, statusText: string): void {
    if (statusCode < 200) return; // 1xx: informational, the real answer follows
    const headers = util.parseHeaders(rawHeaders) as Dispatcher.ResponseData['headers'];
    const length = headers['content-length'];
    const body = new TransportBody(
      this.#abortUndici ?? noop,
      resume,
      headers['content-type'] as string | undefined,
      this.#ctx.method !== 'HEAD' && length ? Number(length) : null,
    );
    this.#body = body;
    // A 5xx was judged by its headers already; any other answer is judged when its body ends.
    if (!isFailedStatus(statusCode)) this.#reportTo = this.#ctx.endpoint;
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.({
      statusCode,
      statusText,
      headers,
      trailers: this.#trailers,
      opaque: null,
      body,
      context: {},
    });
  }

  onData(chunk: Buffer): boolean {
    return (this.#body as TransportBody).push(chunk);
  }

  onComplete(rawTrailers: RawHeaders | null): void {
    // The connection is handed back last, once the callbacks this end runs are done with it.
    try {
      this.#release();
      if (rawTrailers) util.parseHeaders(rawTrailers, this.#trailers);
      const body = this.#body;
      body?.push(null);
      this.#bodyEnded(false);
      body?.over();
    } finally {
      leaveConnection(this);
    }
  }

  /** Tells the endpoint, once, how the body of its answer ended (see `EndpointView.bodyEnded`). */
  #bodyEnded(failed: boolean): void {
    const endpoint = this.#reportTo;
    if (endpoint === undefined) return;
    this.#reportTo = undefined;
    endpoint.bodyEnded?.(failed);
  }

  onError(err: Error): void {
    leaveConnection(this);
    this.#release();
    const ctx = this.#ctx;
    const reject = this.#reject;
    const body = this.#body;
    // A cancel's reason (the deadline, the caller's abort), or the error of a body the caller destroyed.
    let failure: Error | null = this.#reason ?? body?.errored ?? null;
    if (reject !== undefined) {
      this.#resolve = this.#reject = undefined;
      reject(toTransportError(err, ctx));
    } else if (body !== undefined && this.#reason === undefined && !body.destroyed) {
      // A response cut short (a reset, a body shorter than its content-length) or stalled past
      // the idle limit fails its body stream with a TrellisError; after the handlers undici has
      // already queued, as undici does. That is the endpoint's failure. A body the caller
      // cancelled or destroyed (caught above: a reason, a destroyed body) is not.
      const error = toTransportError(err, ctx);
      queueMicrotask(() => body.destroy(error));
      this.#bodyEnded(true);
      failure = error;
    }
    this.#reportTo = undefined;
    body?.over(failure);
    // The request body stream is over with the request (undici's request() does the same).
    const sent = ctx.body;
    if (sent instanceof Readable && !sent.destroyed) sent.on('error', noop).destroy(err);
  }
}
