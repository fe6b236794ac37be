import { Readable } from 'node:stream';
import type { ResponseBody } from './layer.js';

/** What a layer that waits for a response body to be over implements (see {@link whenBodyEnds}). */
export interface BodyEndWatcher {
  /** Called once, when the body is over: read to the end, failed or destroyed. */
  bodyEnded(): void;
}

/**
 * One body's `close` listener. Links are pooled and each has its listener bound once, so waiting
 * for a body costs no closure per request; and on undici's body stream the listener is added with
 * `on`, which (unlike `once`) allocates no wrapper. A stream emits `close` only once, so the
 * listener left on a finished body never fires again.
 */
class BodyEndLink {
  watcher: BodyEndWatcher | undefined = undefined;
  next: BodyEndLink | undefined = undefined;
  readonly fire = (): void => {
    const watcher = this.watcher;
    if (watcher === undefined) return;
    this.watcher = undefined;
    recycle(this);
    watcher.bodyEnded();
  };
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

/** Calls `watcher.bodyEnded()` once `body` is over (at once when it already is). */
export function whenBodyEnds(body: ResponseBody, watcher: BodyEndWatcher): void {
  if (body.destroyed) {
    watcher.bodyEnded();
    return;
  }
  const link = take();
  link.watcher = watcher;
  if (body instanceof Readable) body.on('close', link.fire);
  else body.once('close', link.fire);
}
