import { Readable } from 'node:stream';
import type { ResponseBody } from './layer.js';

/** What a layer that waits for a response body to be over implements (see {@link whenBodyEnds}). */
export interface BodyEndWatcher {
  /**
   * Called once, when the body is over: read to the end, failed or destroyed. `failure` is what
   * it failed with (see `ResponseBody.errored`), null when it was not failed with an error.
   */
  bodyEnded(failure: Error | null): void;
}

/**
 * One body's `close` listener. Links are pooled and each has its listener bound once, so waiting
 * for a body costs no closure per request; and on undici's body stream the listener is added with
 * `on`, which (unlike `once`) allocates no wrapper. That listener stays on the finished stream, so
 * it only answers the stream it was last given (an emitter calls listeners with itself as `this`):
 * a stray second `close` from an old body cannot end the body the link serves now.
 */
class BodyEndLink {
  watcher: BodyEndWatcher | undefined = undefined;
  /** The stream listened to with `on`, or undefined for a body listened to with `once`. */
  stream: Readable | undefined = undefined;
  /** The body waited for, asked at its end what it failed with. */
  body: ResponseBody | undefined = undefined;
  next: BodyEndLink | undefined = undefined;
  readonly fire: () => void;

  constructor() {
    const link = this;
    this.fire = function bodyClosed(this: unknown): void {
      const watcher = link.watcher;
      if (watcher === undefined || (link.stream !== undefined && this !== link.stream)) return;
      const failure = link.body?.errored ?? null;
      link.watcher = link.stream = link.body = undefined;
      recycle(link);
      watcher.bodyEnded(failure);
    };
  }
}

/** Keeps at most this many idle links. */
const POOL_LIMIT = 1024;
let free: BodyEndLink | undefined;
let freeCount = 0;

function recycle(link: BodyEndLink): void {
  if (freeCount >= POOL_LIMIT) return;
  link.next = free;
  free = link;
  freeCount++;
}

function take(): BodyEndLink {
  const link = free;
  if (link === undefined) return new BodyEndLink();
  free = link.next;
  link.next = undefined;
  freeCount--;
  return link;
}

/** The method by which a body that reports its own end takes a watcher (see {@link BodyEndSource}). */
export const WATCH_BODY_END: unique symbol = Symbol('trellis.watchBodyEnd');

/**
 * A response body that tells watchers itself when it is over, as the transport's bodies do: the
 * transport sees the last byte arrive, the response fail and the caller cancel, so waiting for
 * such a body needs no `close` listener (two watchers and undici's own consumers on one stream
 * made `Readable.on` a visible share of a production request's CPU).
 */
export interface BodyEndSource {
  /** Calls `watcher.bodyEnded()` once the body is over (at once when it already is). */
  [WATCH_BODY_END](watcher: BodyEndWatcher): void;
}

/**
 * Calls `watcher.bodyEnded()` once `body` is over (at once when it already is). A body from the
 * transport is over when its last byte has arrived, it failed, or it was cancelled; any other
 * body when its stream closes.
 */
export function whenBodyEnds(body: ResponseBody, watcher: BodyEndWatcher): void {
  if (body.destroyed) {
    watcher.bodyEnded(body.errored ?? null);
    return;
  }
  const watch = (body as Partial<BodyEndSource>)[WATCH_BODY_END];
  if (watch !== undefined) {
    watch.call(body, watcher);
    return;
  }
  const link = take();
  link.watcher = watcher;
  link.body = body;
  if (body instanceof Readable) {
    link.stream = body;
    body.on('close', link.fire);
  } else body.once('close', link.fire);
}
