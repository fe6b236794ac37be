import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { type BodyEndSource, type BodyEndWatcher, WATCH_BODY_END } from '../core/body-end.js';
import { abortQuietly } from './quiet-abort.js';

/** What undici's response body stream is built from. */
export interface BodyReadableOptions {
  /** Asks undici for more data (the `resume` its handler API gives `onHeaders`). */
  resume: () => void;
  /** Cancels the request (called when the stream is destroyed before its end). */
  abort: () => void;
  /** The response's `content-type`, for `blob()`. */
  contentType?: string;
  /** The response's `content-length`, checked against what arrives. */
  contentLength?: number | null;
}

/** undici's response body: a Readable with `text()`, `json()`, `dump()` and the rest. */
export type BodyReadable = Dispatcher.ResponseData['body'] & Readable;

type BodyReadableClass = new (options: BodyReadableOptions) => BodyReadable;

/**
 * The class undici's own `request()` builds response bodies with. It is not exported from
 * undici's entry point, so it is loaded by path: the mesh sends with `dispatch()` and its own
 * handler (which it needs to settle and cancel requests that are still queued), yet
 * `mesh.request()` must keep answering with exactly the body users know from undici. The path
 * and constructor are pinned by `test/core/body-readable.test.ts`, which fails if an undici
 * update moves or changes them.
 */
export const BodyReadable: BodyReadableClass = (
  createRequire(import.meta.url)('undici/lib/api/readable.js') as { Readable: BodyReadableClass }
).Readable;

/** undici's body calls its abort on itself (`this[kAbort]()`): one function serves every body. */
function abortFromBody(this: TransportBody): void {
  abortQuietly(this.abortAttempt);
}

/**
 * The body of an answer the transport received: undici's body, which also tells watchers when it
 * is over for the transport (see `BodyEndSource`), so the layers above wait for it without a
 * stream listener. The handler that feeds it calls {@link TransportBody.over} when the last byte
 * has arrived or the response failed (a caller's cancel reaches the handler as a failure).
 */
export class TransportBody extends BodyReadable implements BodyEndSource {
  /** undici's abort for the attempt, called (quietly) when the body is destroyed before its end. */
  readonly abortAttempt: () => void;
  #over = false;
  /** What the body failed with, once over; null when it arrived whole. */
  #failure: Error | null = null;
  #watcher: BodyEndWatcher | undefined = undefined;
  #moreWatchers: BodyEndWatcher[] | undefined = undefined;

  /**
   * @param abortAttempt - undici's abort for the attempt
   * @param resume - asks undici for more data
   * @param contentType - the response's `content-type`, for `blob()`
   * @param contentLength - the response's `content-length`, checked against what arrives
   */
  constructor(
    abortAttempt: () => void,
    resume: () => void,
    contentType: string | undefined,
    contentLength: number | null,
  ) {
    // A literal, not a spread of the caller's options: spreading into the object undici's body
    // keeps cost ~1.5 µs per response on Node 20 (measured), over 10x the rest of the constructor.
    super({ resume, abort: abortFromBody, contentType, contentLength });
    this.abortAttempt = abortAttempt;
  }

  [WATCH_BODY_END](watcher: BodyEndWatcher): void {
    if (this.#over) watcher.bodyEnded(this.#failure);
    else if (this.#watcher === undefined) this.#watcher = watcher;
    else if (this.#moreWatchers === undefined) this.#moreWatchers = [watcher];
    else this.#moreWatchers.push(watcher);
  }

  /**
   * The body is over for the transport: tells every watcher, once, with what it failed with
   * (null when it arrived whole). The stream itself may be failed a little later, after the
   * chunks undici already queued, so its `errored` cannot tell the watchers yet.
   */
  over(failure: Error | null = null): void {
    if (this.#over) return;
    this.#over = true;
    this.#failure = failure;
    const watcher = this.#watcher;
    const more = this.#moreWatchers;
    this.#watcher = this.#moreWatchers = undefined;
    watcher?.bodyEnded(failure);
    if (more !== undefined) for (const each of more) each.bodyEnded(failure);
  }
}
