import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, errors, util } from 'undici';
import { listenForAbort, offAbort, type SignalLike } from '../core/cancel-token.js';
import type { RequestContext } from '../core/context.js';
import type { EndpointView } from '../core/endpoint.js';
import { isFailedStatus } from '../core/failure-flags.js';
import type { MeshResponse } from '../core/layer.js';
import {
  addListener,
  callListeners,
  type Listener,
  type ListenerList,
  type ListenerObject,
} from '../core/listener-list.js';
import { type ConnectionTenant, leaveConnection, type PooledConnection } from './connection-pool.js';
import type { QueueableHandler, QueuedDispatch } from './dispatch-queue.js';
import { abortQuietly } from './quiet-abort.js';
import { abortedError, toTransportError } from './transport-errors.js';

/** Bytes a relay holds for a response nobody has claimed yet before it pauses the socket. */
const HOLD_LIMIT = 65_536;

type RawHeaders = Buffer[];

/** What a relay feeds once the front-end claims it: an undici dispatch handler, either generation. */
export interface RelayTarget {
  /** The caller's handler. */
  readonly handler: Dispatcher.DispatchHandler;
  /** The controller the caller's (new-style) handler was given; its `paused` is obeyed. */
  readonly controller: Dispatcher.DispatchController;
  /** True for a handler of undici 7's generation (`onResponseStart`...). */
  readonly modern: boolean;
}

/**
 * One attempt sent with undici's `dispatch` rather than `request`, for the dispatcher front-end
 * (`mesh.fetch`, `setGlobalDispatcher`): the response's raw header bytes and body chunks go
 * straight to the caller's own undici handler, with no stream, no header object and no header
 * re-encoding in between (measured: bench/RESULTS.md, issue 2).
 *
 * It is the undici handler of the attempt and the `body` of the response the layers see. Until
 * the front-end claims it, a few chunks are held (then the socket is paused), so a layer can
 * still look at the status and throw the response away (`dump`, `destroy`) to retry.
 */
export class RelayBody implements QueueableHandler, ConnectionTenant, ListenerObject {
  /** Its place in a queue while it waits for a connection (see `DispatchQueue`). */
  queued: QueuedDispatch | undefined = undefined;
  /** The pooled connection carrying the request, handed back when the answer ends (see `ConnectionPool`). */
  connection: PooledConnection | null = null;
  readonly #ctx: RequestContext;
  #resolve: ((response: MeshResponse) => void) | undefined;
  #reject: ((err: Error) => void) | undefined;
  #abortUndici: ((err: Error) => void) | undefined = undefined;
  #resumeUndici: (() => void) | undefined = undefined;
  /** The caller's signal and the listener on it (this relay, as a rule), while the attempt listens. */
  #signal: SignalLike | undefined = undefined;
  #onAbort: Listener | undefined = undefined;
  /** Who waits for the body to be over (`once('close')`): rarely more than one. */
  #onClose: ListenerList = undefined;
  #reason: Error | undefined = undefined;
  #target: RelayTarget | undefined = undefined;
  #held: Buffer[] | undefined = undefined;
  #heldBytes = 0;
  #paused = false;
  #rawTrailers: RawHeaders | undefined = undefined;
  #error: Error | undefined = undefined;
  #ended = false;
  /** Set once the caller's handler has had its end or error: it never gets a second. */
  #delivered = false;
  #dumpLimit = -1;
  #dumpDone: (() => void) | undefined = undefined;
  /** The endpoint to tell how the body ended, while an answer below 500 streams its body. */
  #reportTo: EndpointView | undefined = undefined;
  /** The response's raw header list, as undici read it off the wire. */
  rawHeaders: RawHeaders = [];
  /** Whether the body is over: read to the end, failed or destroyed. */
  destroyed = false;
  /**
   * What the body failed with once it has (the caller's handler is given undici's own error);
   * a failure of the endpoint's as a `TrellisError`, as `mesh.request()`'s body would have it.
   */
  errored: Error | null = null;

  constructor(ctx: RequestContext, resolve: (response: MeshResponse) => void, reject: (err: Error) => void) {
    this.#ctx = ctx;
    this.#resolve = resolve;
    this.#reject = reject;
    // The transport refuses a request whose signal has already fired before it gets here.
    const signal = ctx.signal;
    if (signal === undefined) return;
    this.#signal = signal;
    this.#onAbort = listenForAbort(signal, this);
  }

  /** The request's signal fired (this relay is its listener: no closure per attempt). */
  handleEvent(): void {
    const signal = this.#signal;
    if (signal !== undefined) this.destroy(abortReasonOf(signal));
  }

  // ---- undici's handler API (the generation its Client speaks natively) ----

  onConnect(abort: (err: Error) => void): void {
    // A request cancelled while queued or connecting is refused by throwing: undici then drops
    // it without closing the connection it was about to use (see ResponseHandler).
    if (this.#reason !== undefined) throw this.#reason;
    this.#abortUndici = abort;
  }

  onHeaders(statusCode: number, rawHeaders: RawHeaders, resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real answer follows
    this.rawHeaders = rawHeaders;
    this.#resumeUndici = resume;
    // A 5xx was judged by its headers already; any other answer is judged when its body ends.
    if (!isFailedStatus(statusCode)) this.#reportTo = this.#ctx.endpoint;
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.(new RelayResponse(statusCode, statusText, this));
    return true;
  }

  onData(chunk: Buffer): boolean {
    const target = this.#target;
    if (target !== undefined && this.#held === undefined && !this.#paused) {
      // A new-generation handler pauses through its controller, an old one by returning false;
      // either way the relay holds what comes next until resume().
      if (target.modern) target.handler.onResponseData?.(target.controller, chunk);
      else if (target.handler.onData?.(chunk) === false) this.#paused = true;
      return !this.#paused;
    }
    if (this.#dumpLimit >= 0) {
      this.#heldBytes += chunk.length;
      if (this.#heldBytes > this.#dumpLimit) this.destroy(new errors.RequestAbortedError('dumped'));
      return true;
    }
    if (this.#held === undefined) this.#held = [chunk];
    else this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    return target === undefined && this.#heldBytes < HOLD_LIMIT;
  }

  onComplete(rawTrailers: RawHeaders | null): void {
    this.#ended = true;
    this.#rawTrailers = rawTrailers ?? [];
    try {
      if (this.#target !== undefined && this.#held === undefined) this.#deliverEnd(this.#target);
      this.#finish();
      this.#bodyEnded(false);
    } finally {
      // Handed back once the caller's handler is done with this end (see ResponseHandler).
      leaveConnection(this);
    }
  }

  onError(err: Error): void {
    leaveConnection(this);
    const reject = this.#reject;
    if (reject !== undefined) {
      this.#resolve = this.#reject = undefined;
      this.#finish();
      reject(toTransportError(this.#reason ?? err, this.#ctx));
      return;
    }
    // Cut short or stalled by the endpoint, unless the caller cancelled it first (a reason).
    if (this.#reason === undefined) this.#bodyEnded(true);
    this.#reportTo = undefined;
    if (this.destroyed && this.#target === undefined) return;
    this.#error = this.#reason ?? err;
    this.errored = this.#reason ?? toTransportError(err, this.#ctx);
    if (this.#target !== undefined) this.#deliverError(this.#target, this.#error);
    this.#finish();
  }

  // ---- the body, as the layers see it ----

  /** Whether the caller's handler has been told how the body ended (its end or its failure). */
  get handedOver(): boolean {
    return this.#delivered;
  }

  /** Cancels the response: the attempt is aborted and the connection discarded. */
  destroy(reason?: Error): this {
    if (this.#reason !== undefined || this.#error !== undefined || this.#delivered) return this;
    if (this.#ended) {
      // The whole answer has arrived, but the caller has not been handed its end yet (it is
      // held while the layers pass the response up, or the caller aborts in onResponseStart):
      // the cancel wins, as in undici, where an abort before the end ends with an error.
      this.#reason = this.#error = reason ?? new errors.RequestAbortedError();
      this.#held = undefined;
      if (this.#target !== undefined) this.#deliverError(this.#target, this.#error);
      return this;
    }
    this.#reason = reason ?? new errors.RequestAbortedError();
    const reject = this.#reject;
    if (reject !== undefined) {
      // No answer yet: the caller hears of it now, not when undici gets to a queued request.
      this.#resolve = this.#reject = undefined;
      this.queued?.leave();
      this.#finish();
      reject(abortedError(this.#reason, this.#ctx, this.#abortUndici !== undefined));
    }
    if (this.#abortUndici !== undefined) abortQuietly(this.#abortUndici, this.#reason);
    return this;
  }

  /**
   * Discards the body, reading up to `limit` bytes of it so the connection can be reused, then
   * giving up on the connection; resolves when the body is over either way.
   */
  dump(options?: { limit?: number }): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    this.#dumpLimit = options?.limit ?? 131_072;
    this.#held = undefined;
    if (this.#heldBytes > this.#dumpLimit) this.destroy(new errors.RequestAbortedError('dumped'));
    this.resume();
    if (this.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#dumpDone = resolve;
    });
  }

  /** Stops reading from the socket after the current chunk. */
  pause(): this {
    this.#paused = true;
    return this;
  }

  /** Reads from the socket again, after handing over what was held while paused. */
  resume(): this {
    this.#paused = false;
    if (this.#target !== undefined && this.#held !== undefined) this.#flush(this.#target);
    if (!this.#paused) this.#resumeUndici?.();
    return this;
  }

  /**
   * Hands the response over to the caller's handler: the status and raw headers, what was held,
   * then every chunk as it arrives. Called once, by the dispatcher front-end.
   */
  relayTo(target: RelayTarget, statusCode: number, statusText: string): void {
    this.#target = target;
    const { handler } = target;
    if (target.modern) {
      // A pause the handler asked for before there was a response (in onRequestStart) holds.
      if (target.controller.paused) this.#paused = true;
      handler.onResponseStart?.(target.controller, statusCode, this.headers(), statusText);
    } else {
      handler.onResponseStarted?.();
      // Old-generation handlers only (Node 20's fetch): the relay's resume, which hands over
      // what was held before reading on.
      const resume = () => this.resume();
      if (handler.onHeaders?.(statusCode, this.rawHeaders, resume, statusText) === false) this.#paused = true;
    }
    this.#flush(target);
    // Holding paused the socket: read on, unless the caller asked for a pause itself.
    if (!this.destroyed && !this.#paused && this.#heldBytes >= HOLD_LIMIT) this.#resumeUndici?.();
  }

  /** Hands held chunks to the caller until it pauses, then the end or the failure once all is out. */
  #flush(target: RelayTarget): void {
    const held = this.#held;
    while (held !== undefined && held.length > 0 && !this.#paused) {
      const chunk = held.shift() as Buffer;
      if (target.modern) target.handler.onResponseData?.(target.controller, chunk);
      else if (target.handler.onData?.(chunk) === false) this.#paused = true;
    }
    if (held !== undefined && held.length > 0) return;
    this.#held = undefined;
    if (this.#error !== undefined) this.#deliverError(target, this.#error);
    else if (this.#ended) this.#deliverEnd(target);
  }

  /**
   * Runs `listener` once the body is over: the one event layers may listen to. A body that is
   * already over never calls it, as with a stream's `'close'`.
   */
  once(event: 'close', listener: () => void): this {
    if (event === 'close' && !this.destroyed) this.#onClose = addListener(this.#onClose, listener);
    return this;
  }

  /** The response headers as an object, parsed on demand. */
  headers(): IncomingHttpHeaders {
    return util.parseHeaders(this.rawHeaders) as IncomingHttpHeaders;
  }

  /** The response trailers as an object, parsed on demand; empty until the body has ended. */
  trailers(): Record<string, string> {
    return util.parseHeaders(this.#rawTrailers ?? []) as Record<string, string>;
  }

  #deliverEnd(target: RelayTarget): void {
    if (this.#delivered) return;
    this.#delivered = true;
    this.#stopListening();
    if (target.modern) target.handler.onResponseEnd?.(target.controller, this.trailers());
    else target.handler.onComplete?.((this.#rawTrailers ?? []) as unknown as string[]);
  }

  #deliverError(target: RelayTarget, err: Error): void {
    // An abort from inside onResponseStart reaches onError before relayTo's flush runs.
    if (this.#delivered) return;
    this.#delivered = true;
    this.#stopListening();
    if (target.modern) target.handler.onResponseError?.(target.controller, err);
    else target.handler.onError?.(err);
  }

  /** Tells the endpoint, once, how the body of its answer ended (see `EndpointView.bodyEnded`). */
  #bodyEnded(failed: boolean): void {
    const endpoint = this.#reportTo;
    if (endpoint === undefined) return;
    this.#reportTo = undefined;
    endpoint.bodyEnded?.(failed);
  }

  /** Stops listening to the request's signal: the caller has been told how the body ended. */
  #stopListening(): void {
    if (this.#onAbort !== undefined) offAbort(this.#signal as SignalLike, this.#onAbort);
    this.#signal = this.#onAbort = undefined;
  }

  #finish(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    // Held chunks of a complete body wait for the front-end, and so does the caller's cancel
    // (see destroy); those of a failed one are dropped.
    if (!this.#ended) {
      this.#held = undefined;
      this.#stopListening();
    }
    this.#dumpDone?.();
    this.#dumpDone = undefined;
    const onClose = this.#onClose;
    this.#onClose = undefined;
    callListeners(onClose);
  }
}

/** The response the layers see for a relayed attempt: status now, headers parsed if asked for. */
export class RelayResponse {
  readonly statusCode: number;
  readonly statusText: string;
  readonly body: RelayBody;
  #headers: IncomingHttpHeaders | undefined = undefined;

  constructor(statusCode: number, statusText: string, body: RelayBody) {
    this.statusCode = statusCode;
    this.statusText = statusText;
    this.body = body;
  }

  get headers(): IncomingHttpHeaders {
    this.#headers ??= this.body.headers();
    return this.#headers;
  }

  /** The trailers, parsed when asked for; empty until the body has ended. */
  get trailers(): Record<string, string> {
    return this.body.trailers();
  }
}

function abortReasonOf(signal: NonNullable<RequestContext['signal']>): Error {
  const reason = signal.reason;
  return reason instanceof Error ? reason : new errors.RequestAbortedError();
}
