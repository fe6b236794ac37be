import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { TAKES_LISTENER_OBJECTS } from '../core/cancel-token.js';
import type { AbortEmitter } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { MeshResponse } from '../core/layer.js';
import {
  addListener,
  callListeners,
  type Listener,
  type ListenerList,
  removeListener,
} from '../core/listener-list.js';
import { RelayBody, type RelayTarget } from '../transport/relay-body.js';

/** Header names repeat on almost every response, so each name's Buffer is made once (bounded). */
const NAME_BUFFERS = new Map<string, Buffer>();
const NAME_CACHE_LIMIT = 256;

function nameBuffer(name: string): Buffer {
  let buffer = NAME_BUFFERS.get(name);
  if (buffer === undefined) {
    if (NAME_BUFFERS.size >= NAME_CACHE_LIMIT) NAME_BUFFERS.clear();
    buffer = Buffer.from(name, 'latin1');
    NAME_BUFFERS.set(name, buffer);
  }
  return buffer;
}

/**
 * The `[name, value, ...]` Buffer list older handlers expect. Values are encoded as latin1, the
 * encoding undici decoded them with, so every byte the upstream sent reaches the handler unchanged.
 */
function rawHeaders(headers: IncomingHttpHeaders | Record<string, string>): Buffer[] {
  const raw: Buffer[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') raw.push(nameBuffer(name), Buffer.from(value, 'latin1'));
    else for (const one of value) raw.push(nameBuffer(name), Buffer.from(one, 'latin1'));
  }
  return raw;
}

/**
 * Feeds a mesh response (status, headers, relayed or streaming body) into an undici dispatch handler, so
 * `fetch` and anything else built on undici's `Dispatcher` API can run on the mesh. Speaks both
 * handler generations: `onResponseStart`/`onResponseData`/... (undici 7) and the older
 * `onConnect`/`onHeaders`/`onData`/... that Node 20's built-in fetch still uses.
 */
export class HandlerBridge implements Dispatcher.DispatchController, RelayTarget, AbortEmitter {
  /** Its listeners may be listener objects (see `listenForAbort`): on the prototype, not on each instance. */
  get [TAKES_LISTENER_OBJECTS](): true {
    return true;
  }

  /** The handler the relay feeds. */
  readonly handler: Dispatcher.DispatchHandler;
  /** The controller the handler was given: this bridge. */
  readonly controller: Dispatcher.DispatchController = this;
  /** Whether the handler is of undici 7's generation. */
  readonly modern: boolean;
  #aborted = false;
  #response: MeshResponse | undefined;
  #relay: RelayBody | undefined = undefined;
  #paused = false;
  #reason: Error | null = null;
  /** Set once the handler has had its last callback (end or error); nothing is sent after. */
  #settled = false;
  #onAbort: ListenerList = undefined;

  /**
   * The bridge is also the request's cancellation signal (an {@link AbortEmitter}: it has
   * `aborted` and `reason` and calls its `'abort'` listeners), so a request through the
   * dispatcher needs no separate signal object.
   *
   * @param handler - the handler undici's caller passed to `dispatch`
   */
  constructor(handler: Dispatcher.DispatchHandler) {
    this.handler = handler;
    this.modern = typeof handler.onResponseStart === 'function';
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  abort(reason?: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    if (this.#response) this.#response.body.destroy(this.#reason);
    else {
      const listeners = this.#onAbort;
      this.#onAbort = undefined;
      callListeners(listeners);
    }
  }

  on(event: 'abort', listener: Listener): this {
    if (event === 'abort') this.#onAbort = addListener(this.#onAbort, listener);
    return this;
  }

  addListener(event: 'abort', listener: Listener): this {
    return this.on(event, listener);
  }

  removeListener(event: 'abort', listener: Listener): this {
    if (event === 'abort') this.#onAbort = removeListener(this.#onAbort, listener);
    return this;
  }

  pause(): void {
    this.#paused = true;
    (this.#relay ?? (this.#response?.body as Readable | undefined))?.pause();
  }

  resume(): void {
    this.#paused = false;
    (this.#relay ?? (this.#response?.body as Readable | undefined))?.resume();
  }

  /** Tells the handler the request has started and how to abort it. */
  start(): void {
    if (this.modern) this.handler.onRequestStart?.(this, {});
    else this.handler.onConnect?.((err?: Error) => this.abort(err));
  }

  /**
   * Waits for the mesh's answer and hands it, or the failure, to the handler. An async method
   * rather than `then(respond, fail)`, which would need two bound callbacks per request.
   */
  async deliver(answer: Promise<MeshResponse>): Promise<void> {
    let response: MeshResponse;
    try {
      response = await answer;
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    try {
      this.respond(response);
    } catch (err) {
      this.#handlerThrew(err as Error);
    }
  }

  /**
   * A handler callback threw while the response was handed over (undici's retry interceptor
   * throws from `onResponseStart` on a retryable status, then retries from its `onResponseError`).
   * As undici does, the response is aborted and the error goes to the same handler's error
   * callback; it must never escape as an unhandled rejection.
   */
  #handlerThrew(err: Error): void {
    const body = this.#response?.body;
    if (body instanceof RelayBody && !body.handedOver) {
      // The relay hands the error to the handler: once undici has aborted the attempt, or at
      // once when the whole body had already arrived.
      body.destroy(err);
      return;
    }
    body?.destroy();
    this.#settled = false;
    this.#reason ??= err;
    this.fail(err);
  }

  /** Hands the response to the handler: relayed when the transport relayed it, else streamed. */
  respond(response: MeshResponse): void {
    const body = response.body;
    if (this.#settled || this.#aborted) {
      body.destroy();
      this.fail(this.#reason ?? new Error('aborted'));
      return;
    }
    this.#response = response;
    if (body instanceof RelayBody) {
      this.#relay = body;
      // The relay reports the end or the failure to the handler itself.
      this.#settled = true;
      body.relayTo(this, response.statusCode, response.statusText ?? '');
    } else if (body instanceof Readable) {
      this.#stream(response, body);
    } else {
      body.destroy();
      this.fail(
        new TrellisError(
          ErrorCode.Unsupported,
          'A layer answered with a body that is neither relayed nor a readable stream; ' +
            'layers that make their own responses must give them a Readable body.',
        ),
      );
    }
  }

  /** Streams a response a layer made (not the transport) into the handler. */
  #stream(response: MeshResponse, body: Readable): void {
    const handler = this.handler;
    body.on('error', (err: Error) => this.fail(err));
    if (this.modern) {
      handler.onResponseStart?.(this, response.statusCode, response.headers, response.statusText ?? '');
      body.on('data', (chunk: Buffer) => {
        try {
          handler.onResponseData?.(this, chunk);
        } catch (err) {
          body.destroy(err as Error);
        }
      });
      body.on('end', () => this.#settle() && handler.onResponseEnd?.(this, response.trailers));
    } else {
      const go = handler.onHeaders?.(
        response.statusCode,
        rawHeaders(response.headers),
        () => this.resume(),
        response.statusText ?? '',
      );
      if (go === false) this.pause();
      body.on('data', (chunk: Buffer) => {
        try {
          if (handler.onData?.(chunk) === false) this.pause();
        } catch (err) {
          body.destroy(err as Error);
        }
      });
      body.on('end', () => this.#settle() && handler.onComplete?.(rawHeaders(response.trailers).map(String)));
    }
    if (this.#paused) body.pause();
  }

  /** Reports a failure (before or during the response) to the handler, once. */
  fail(err: Error): void {
    if (!this.#settle()) return;
    const error = this.#reason ?? err;
    if (this.modern) this.handler.onResponseError?.(this, error);
    else this.handler.onError?.(error);
  }

  /** True the first time: the handler may get its final callback. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }
}
