import { type BodyEndWatcher, whenBodyEnds } from '../core/body-end.js';
import type { RequestContext } from '../core/context.js';
import { FreeList, type Reusable } from '../core/free-list.js';
import type { Interception } from '../core/interceptor.js';
import type { MeshResponse } from '../core/layer.js';
import { stepNow } from '../core/step-clock.js';
import type { CompletionFeed } from './completion-feed.js';
import { bodyErrorCode, errorCell, errorCode, responseCell } from './outcome-class.js';
import type { RouteStats, ServiceStats } from './service-stats.js';

/**
 * Times one call from its start to the end of its response body: the metrics layer's
 * interception of the call. Timers are pooled, so timing a call allocates nothing.
 */
export class CallTimer implements Interception, BodyEndWatcher, Reusable<CallTimer> {
  service!: ServiceStats;
  route!: RouteStats;
  started = 0;
  headersMs = 0;
  status = 0;
  /** True while the answer is handed to `whenBodyEnds`: a body over by then ended at the headers. */
  answering = false;
  /** The call, kept while it runs, and after its headers only while someone taps completions. */
  ctx: RequestContext | undefined = undefined;
  nextFree: CallTimer | undefined = undefined;
  readonly #pool: CallTimerPool;

  constructor(pool: CallTimerPool) {
    this.#pool = pool;
  }

  /** Counts the answer, then waits for its body. */
  answered(response: MeshResponse): MeshResponse {
    return this.#pool.answered(this, response);
  }

  /** Counts the error and rethrows it. */
  failed(error: unknown): never {
    return this.#pool.failed(this, error);
  }

  bodyEnded(failure: Error | null): void {
    this.#pool.finish(this, failure);
  }
}

/** A free list of {@link CallTimer}s, and what happens at each step of a timed call. */
export class CallTimerPool {
  readonly #free = new FreeList(() => new CallTimer(this));
  readonly #feed: CompletionFeed;

  constructor(feed: CompletionFeed) {
    this.#feed = feed;
  }

  /** Starts timing a call of `service` (counted in flight from now). */
  start(service: ServiceStats, ctx: RequestContext): CallTimer {
    const timer = this.#free.take();
    timer.service = service;
    timer.route = service.route(ctx.route);
    timer.ctx = ctx;
    service.inflight++;
    timer.started = stepNow();
    return timer;
  }

  /** The call answered: counts it by outcome and status class, times its headers, waits for its body. */
  answered(timer: CallTimer, response: MeshResponse): MeshResponse {
    const headersMs = stepNow() - timer.started;
    const route = timer.route;
    route.requests[responseCell(response)]!++;
    route.headers.observe(headersMs / 1000);
    timer.headersMs = headersMs;
    timer.status = response.statusCode;
    if (!this.#feed.active) timer.ctx = undefined;
    timer.answering = true;
    whenBodyEnds(response.body, timer);
    timer.answering = false;
    return response;
  }

  /** The call failed before any answer: counts the error, times it, reports it when tapped. */
  failed(timer: CallTimer, error: unknown): never {
    const ms = stepNow() - timer.started;
    const service = timer.service;
    const route = timer.route;
    service.inflight--;
    route.requests[errorCell(error)]!++;
    route.headers.observe(ms / 1000);
    route.end.observe(ms / 1000);
    service.countError(errorCode(error));
    const ctx = timer.ctx;
    if (ctx !== undefined && this.#feed.active) {
      this.#feed.publish({
        at: Date.now(),
        service: service.name,
        route: route.route,
        method: ctx.method,
        path: ctx.path,
        endpoint: ctx.endpoint?.id,
        status: undefined,
        error: errorCode(error),
        headersMs: ms,
        latencyMs: ms,
        attempts: ctx.attempt,
        deadlineLeftMs: Number.isFinite(ctx.deadline) ? ctx.deadline - stepNow() : null,
      });
    }
    this.#recycle(timer);
    throw error;
  }

  /**
   * Counts the end of a call's body (and its failure, when it failed), reports it to the tap
   * when watched, and recycles the timer. A body already over when its answer was counted (a
   * small answer arrives whole, in one socket read) ended when the headers were timed: no
   * second clock read.
   */
  finish(timer: CallTimer, failure: Error | null): void {
    const elapsedMs = timer.answering ? timer.headersMs : stepNow() - timer.started;
    const service = timer.service;
    service.inflight--;
    timer.route.end.observe(elapsedMs / 1000);
    const bodyError = bodyErrorCode(failure);
    if (bodyError !== undefined) service.countBodyError(bodyError);
    const ctx = timer.ctx;
    if (ctx !== undefined) {
      this.#feed.publish({
        at: Date.now(),
        service: service.name,
        route: timer.route.route,
        method: ctx.method,
        path: ctx.path,
        endpoint: ctx.endpoint?.id,
        status: timer.status,
        error: bodyError,
        headersMs: timer.headersMs,
        latencyMs: elapsedMs,
        attempts: ctx.attempt,
        deadlineLeftMs: Number.isFinite(ctx.deadline) ? ctx.deadline - (timer.started + elapsedMs) : null,
      });
    }
    this.#recycle(timer);
  }

  #recycle(timer: CallTimer): void {
    timer.ctx = undefined;
    this.#free.give(timer);
  }
}
