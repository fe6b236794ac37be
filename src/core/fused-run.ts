import { callNext } from './call-next.js';
import type { RequestContext } from './context.js';
import { FreeList, type Reusable } from './free-list.js';
import type { Interception, Interceptor } from './interceptor.js';
import type { MeshResponse, Service } from './layer.js';
import { closeStep, openStep } from './step-clock.js';

/**
 * One call through a fused run: the interceptions of the run's layers that took part, top first.
 * Pooled, with its two continuations bound once, so a call through the whole run costs one
 * `then`, whatever the number of layers in it.
 */
class RunFrame implements Reusable<RunFrame> {
  /** Grows past the run's own length when the run hands the call on to another (see `dispatching`). */
  readonly taken: Array<Interception | undefined>;
  /** How many of `taken` are still to be told the outcome (the innermost first). */
  depth = 0;
  nextFree: RunFrame | undefined = undefined;
  readonly answered = (response: MeshResponse): MeshResponse | Promise<MeshResponse> =>
    this.#run.unwind(this, response, false);
  readonly failed = (error: unknown): MeshResponse | Promise<MeshResponse> =>
    this.#run.unwind(this, error, true);
  readonly #run: FusedRun;

  constructor(run: FusedRun, size: number) {
    this.#run = run;
    this.taken = new Array<Interception | undefined>(size).fill(undefined);
  }

  /** Back to the free list of the run that made it. */
  give(): void {
    this.#run.give(this);
  }
}

/**
 * Adjacent intercepting layers run as one step: their interceptors are entered top to bottom
 * before the service below is called once, and its outcome is handed to their interceptions
 * innermost first, exactly as a chain of one `then` per layer would hand it (a continuation that
 * throws fails the ones above it, one that returns a promise makes them wait for it), at the
 * cost of one promise and one microtask for the whole run.
 */
class FusedRun {
  readonly #interceptors: readonly Interceptor[];
  readonly #next: Service;
  /** When `next` is {@link dispatching}: which service it hands each call to. */
  readonly #select: Selector | undefined;
  readonly #frames: FreeList<RunFrame>;

  constructor(interceptors: readonly Interceptor[], next: Service) {
    this.#interceptors = interceptors;
    this.#next = next;
    this.#select = (next as Partial<DispatchingService>)[SELECT];
    this.#frames = new FreeList(() => new RunFrame(this, interceptors.length));
  }

  /** Enters the run's layers in one step (see `step-clock.ts`): they share one clock reading. */
  call(ctx: RequestContext): Promise<MeshResponse> {
    openStep();
    try {
      return this.#enter(this.#frames.take(), 0, ctx);
    } finally {
      closeStep();
    }
  }

  /**
   * Enters this run's interceptors into `frame` above the `depth` already there, then calls
   * what is below: a run the dispatching service below picks joins the same frame, so a
   * service's run and the chosen endpoint's run share one step too.
   */
  #enter(frame: RunFrame, from: number, ctx: RequestContext): Promise<MeshResponse> {
    const interceptors = this.#interceptors;
    const taken = frame.taken;
    let depth = from;
    for (let i = 0; i < interceptors.length; i++) {
      let entered: Interception | Promise<MeshResponse> | undefined;
      try {
        entered = (interceptors[i] as Interceptor)(ctx);
      } catch (err) {
        entered = Promise.reject(err);
      }
      if (entered === undefined) continue;
      if (entered instanceof Promise) return this.#settledBy(frame, depth, entered);
      taken[depth++] = entered;
    }
    const select = this.#select;
    if (select === undefined) return this.#settledBy(frame, depth, callNext(this.#next, ctx));
    let target: Service;
    try {
      target = select(ctx);
    } catch (err) {
      return this.#settledBy(frame, depth, Promise.reject(err));
    }
    const run = (target as Partial<FusedService>)[RUN];
    if (run !== undefined) return run.#enter(frame, depth, ctx);
    return this.#settledBy(frame, depth, callNext(target, ctx));
  }

  /** The layers above the first `depth` see the outcome of `outcome`. */
  #settledBy(frame: RunFrame, depth: number, outcome: Promise<MeshResponse>): Promise<MeshResponse> {
    if (depth === 0) {
      frame.give();
      return outcome;
    }
    frame.depth = depth;
    return outcome.then(frame.answered, frame.failed);
  }

  /** Takes back a frame this run made. */
  give(frame: RunFrame): void {
    this.#frames.give(frame);
  }

  /**
   * Hands an outcome to the frame's interceptions, innermost first, in one step (they share one
   * clock reading). When one returns a promise, the ones above it continue once it settles, on
   * the same frame.
   */
  unwind(frame: RunFrame, outcome: unknown, failing: boolean): MeshResponse | Promise<MeshResponse> {
    openStep();
    try {
      return this.#unwind(frame, outcome, failing);
    } finally {
      closeStep();
    }
  }

  #unwind(frame: RunFrame, outcome: unknown, failing: boolean): MeshResponse | Promise<MeshResponse> {
    const taken = frame.taken;
    let value = outcome;
    let failed = failing;
    for (let i = frame.depth - 1; i >= 0; i--) {
      const interception = taken[i] as Interception;
      taken[i] = undefined;
      let out: MeshResponse | Promise<MeshResponse>;
      try {
        out = failed ? interception.failed(value) : interception.answered(value as MeshResponse);
      } catch (err) {
        value = err;
        failed = true;
        continue;
      }
      failed = false;
      if (out instanceof Promise && i > 0) {
        frame.depth = i;
        return out.then(frame.answered, frame.failed);
      }
      value = out;
    }
    frame.depth = 0;
    frame.give();
    if (failed) throw value;
    return value as MeshResponse;
  }
}

/** Marks a fused run's service with its run. */
const RUN: unique symbol = Symbol('trellis.fusedRun');
/** Marks a dispatching service with how it picks the service to call. */
const SELECT: unique symbol = Symbol('trellis.select');

type Selector = (ctx: RequestContext) => Service;
type FusedService = Service & { readonly [RUN]: FusedRun };
type DispatchingService = Service & { readonly [SELECT]: Selector };

/**
 * The service of a run of adjacent intercepting layers over `next` (see `Layer.intercept`):
 * `interceptors` top first.
 */
export function fuse(interceptors: readonly Interceptor[], next: Service): Service {
  const run = new FusedRun(interceptors, next);
  const service = (ctx: RequestContext) => run.call(ctx);
  return Object.assign(service, { [RUN]: run }) satisfies FusedService;
}

/**
 * A service that hands each call to the service `select` picks for it (the bottom of a service
 * stack hands each attempt to the chosen endpoint's stack). A run above it continues into the
 * picked service's run in the same step, as if the two were one stack.
 */
export function dispatching(select: Selector): Service {
  const service = (ctx: RequestContext) => select(ctx)(ctx);
  return Object.assign(service, { [SELECT]: select }) satisfies DispatchingService;
}
