import type { BodyEndWatcher } from '../core/body-end.js';
import type { RequestContext } from '../core/context.js';
import type { CompletionFeed } from './completion-feed.js';
import { bodyErrorCode } from './outcome-class.js';
import type { RouteStats, ServiceStats } from './service-stats.js';

/**
 * Times one call from its start to the end of its response body. Timers are pooled and the body
 * is watched with `whenBodyEnds`, so timing a body costs no allocation per request.
 */
export class CallTimer implements BodyEndWatcher {
  service!: ServiceStats;
  route!: RouteStats;
  started = 0;
  headersMs = 0;
  status = 0;
  /** The call, kept only while someone taps completions. */
  ctx: RequestContext | undefined = undefined;
  next: CallTimer | undefined = undefined;
  readonly #pool: CallTimerPool;

  constructor(pool: CallTimerPool) {
    this.#pool = pool;
  }

  bodyEnded(failure: Error | null): void {
    this.#pool.finish(this, failure);
  }
}

/** Keeps at most this many idle timers. */
const POOL_LIMIT = 1024;

/** A free list of {@link CallTimer}s and what happens when a body ends. */
export class CallTimerPool {
  #free: CallTimer | undefined = undefined;
  #size = 0;
  readonly #feed: CompletionFeed;

  constructor(feed: CompletionFeed) {
    this.#feed = feed;
  }

  take(): CallTimer {
    const timer = this.#free;
    if (timer === undefined) return new CallTimer(this);
    this.#free = timer.next;
    timer.next = undefined;
    this.#size--;
    return timer;
  }

  /**
   * Counts the end of a call's body (and its failure, when it failed), reports it to the tap
   * when watched, and recycles the timer.
   */
  finish(timer: CallTimer, failure: Error | null): void {
    const now = performance.now();
    const elapsedMs = now - timer.started;
    timer.service.inflight--;
    timer.route.end.observe(elapsedMs / 1000);
    const bodyError = bodyErrorCode(failure);
    if (bodyError !== undefined) timer.service.countBodyError(bodyError);
    const ctx = timer.ctx;
    if (ctx !== undefined) {
      this.#feed.publish({
        at: Date.now(),
        service: timer.service.name,
        route: timer.route.route,
        method: ctx.method,
        path: ctx.path,
        endpoint: ctx.endpoint?.id,
        status: timer.status,
        error: bodyError,
        headersMs: timer.headersMs,
        latencyMs: elapsedMs,
        attempts: ctx.attempt,
        deadlineLeftMs: Number.isFinite(ctx.deadline) ? ctx.deadline - now : null,
      });
      timer.ctx = undefined;
    }
    if (this.#size >= POOL_LIMIT) return;
    timer.next = this.#free;
    this.#free = timer;
    this.#size++;
  }
}
