import { type BodyEndWatcher, whenBodyEnds } from '../core/body-end.js';
import {
  isAborted,
  offAbort,
  onAbort,
  type SignalLike,
  TAKES_LISTENER_OBJECTS,
} from '../core/cancel-token.js';
import type { AbortEmitter, AttemptStamp, RequestContext } from '../core/context.js';
import { ErrorCode, isTrellisError, TrellisError } from '../core/errors.js';
import { FreeList, type Reusable } from '../core/free-list.js';
import { type HeaderBag, withHeader } from '../core/headers.js';
import { type Interception, type Interceptor, interceptingLayer } from '../core/interceptor.js';
import type { Layer, MeshResponse } from '../core/layer.js';
import {
  addListener,
  callListeners,
  type Listener,
  type ListenerList,
  removeListener,
} from '../core/listener-list.js';
import { stepNow } from '../core/step-clock.js';
import { invalidLayer, optionKeys, unknownOptions } from '../core/validate.js';
import { abortedError } from '../transport/transport-errors.js';
import { deadlineWheel, WheelEntry } from './deadline-wheel.js';
import { currentInbound } from './inbound.js';
import { formatTimeoutHeader, TIMEOUT_HEADER } from './timeout-header.js';

/** The layer name of {@link deadlines}. */
export const DEADLINE_LAYER = 'deadline';

/** Options for {@link deadlines}. */
export interface DeadlineOptions {
  /**
   * Timeout in ms for requests that set neither `timeout` nor `deadline`.
   *
   * @defaultValue none
   */
  timeoutMs?: number;
  /**
   * Limit in ms on each attempt's wait for response headers (undici's `headersTimeout`, counted
   * once the request is on a connection). A timed-out idempotent attempt may be retried while
   * the overall deadline allows. Undici runs this timer on its coarse clock (a 0.5 s tick), so it
   * fires up to about a second late: use it for limits of seconds, and the request deadline for
   * precise ones.
   */
  attemptTimeoutMs?: number;
  /**
   * Send the remaining time downstream in the `trellis-timeout-ms` header.
   *
   * @defaultValue true
   */
  propagate?: boolean;
  /**
   * Honour the deadline and cancellation of the inbound request being handled.
   *
   * @defaultValue true
   */
  inherit?: boolean;
}

const DEADLINE_KEYS = optionKeys<DeadlineOptions>({
  timeoutMs: true,
  attemptTimeoutMs: true,
  propagate: true,
  inherit: true,
});

/** Lists what is wrong with deadline options, each as a sentence the user can act on. */
export function validateDeadlineOptions(options: DeadlineOptions): string[] {
  const problems = unknownOptions('deadlines', options, DEADLINE_KEYS);
  if (options === null || typeof options !== 'object') return problems;
  for (const key of ['timeoutMs', 'attemptTimeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      problems.push(`deadlines(): ${key} must be a positive number of ms, got ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

/** The error for a deadline that has passed; `sent` says whether an attempt was on the wire. */
export function deadlineExceeded(ctx: RequestContext, sent: boolean): TrellisError {
  return new TrellisError(
    ErrorCode.DeadlineExceeded,
    `${ctx.method} ${ctx.service}${ctx.path}: the deadline passed before an answer arrived` +
      `${sent ? '' : ', so it was not sent'}. Give the request (or the inbound request it serves) more time, ` +
      'or make the upstream faster.',
    {
      details: { service: ctx.service, endpoint: ctx.endpoint?.id, requestSent: sent, attempt: ctx.attempt },
    },
  );
}

/**
 * Enforces one request's deadline. It is the signal the layers below listen to (an
 * {@link AbortEmitter}, with its listeners in one field rather than an EventEmitter's
 * bookkeeping): the shared deadline wheel fires it when the deadline passes, and the caller's
 * and the inbound request's signals are forwarded to it. Lives until the response body closes,
 * because the deadline covers the whole exchange, body included.
 */
class DeadlineGuard extends WheelEntry implements AbortEmitter, AttemptStamp, BodyEndWatcher {
  /** Its listeners may be listener objects (see `listenForAbort`): on the prototype, not on each instance. */
  get [TAKES_LISTENER_OBJECTS](): true {
    return true;
  }

  aborted = false;
  reason: TrellisError | undefined = undefined;
  #listeners: ListenerList = undefined;
  readonly #ctx: RequestContext;
  readonly #caller: SignalLike | undefined;
  readonly #inbound: SignalLike | undefined;
  /** The listeners forwarding the caller's and the inbound request's aborts, while linked. */
  #onCaller: (() => void) | undefined = undefined;
  #onInbound: (() => void) | undefined = undefined;
  /**
   * The header copy this layer made to carry the timeout header: the mesh's own, so a later
   * attempt re-stamps it in place rather than copying it again (see {@link DeadlineGuard.restamp}).
   */
  ownHeaders: HeaderBag = undefined;

  constructor(
    ctx: RequestContext,
    deadline: number,
    caller: SignalLike | undefined,
    inbound: SignalLike | undefined,
  ) {
    super();
    this.#ctx = ctx;
    this.#caller = caller;
    this.#inbound = inbound;
    if (deadline !== Number.POSITIVE_INFINITY) deadlineWheel.add(this, deadline);
    if (caller !== undefined) {
      const forward = () => this.abort(abortedError(caller.reason, ctx, true));
      if (isAborted(caller)) forward();
      else {
        this.#onCaller = forward;
        onAbort(caller, forward);
      }
    }
    if (inbound !== undefined) {
      const forward = () => this.abort(abortedError(inbound.reason, ctx, true));
      if (isAborted(inbound)) forward();
      else {
        this.#onInbound = forward;
        onAbort(inbound, forward);
      }
    }
  }

  on(_event: 'abort', listener: Listener): this {
    this.#listeners = addListener(this.#listeners, listener);
    return this;
  }

  addListener(event: 'abort', listener: Listener): this {
    return this.on(event, listener);
  }

  removeListener(_event: 'abort', listener: Listener): this {
    this.#listeners = removeListener(this.#listeners, listener);
    return this;
  }

  /** Fires once: every listener is called, and the expiry and the forwarding stop. */
  abort(reason: TrellisError): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.release();
    const listeners = this.#listeners;
    this.#listeners = undefined;
    callListeners(listeners);
  }

  /** Called by the deadline wheel when the deadline passes. */
  expire(): void {
    // Raised on the wheel's tick, whose stack says nothing about the request: capture none. The
    // stack trace is most of an error's cost, and thousands of deadlines can pass in one tick.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const error = deadlineExceeded(this.#ctx, true);
    Error.stackTraceLimit = limit;
    this.abort(error);
  }

  /** Stops the expiry and the forwarding; the request is over (safe to call more than once). */
  release(): void {
    deadlineWheel.remove(this);
    if (this.#onCaller !== undefined) offAbort(this.#caller as SignalLike, this.#onCaller);
    if (this.#onInbound !== undefined) offAbort(this.#inbound as SignalLike, this.#onInbound);
    this.#onCaller = this.#onInbound = undefined;
  }

  /**
   * Re-stamps the timeout header before a later attempt (a retry or a backup request), so the
   * upstream is told the time actually left rather than the time left when the request started.
   * The headers this layer copied are the mesh's own and the earlier attempt is over, so a retry
   * (whose signal is still this guard) updates them in place; any other headers (a backup's, a
   * layer's later copy) are copied.
   */
  restamp(ctx: RequestContext): void {
    if (!hasTimeoutHeader(ctx)) return;
    const value = formatTimeoutHeader(ctx.deadline - stepNow());
    if (ctx.signal === this && this.ownHeaders === ctx.headers && setOwnTimeout(ctx.headers, value)) return;
    ctx.headers = withHeader(ctx.headers, TIMEOUT_HEADER, value);
  }

  /** The response body is over, and with it the request. */
  bodyEnded(): void {
    this.release();
  }
}

/**
 * The deadline layer's interception of one guarded call: pooled, and given back as soon as the
 * call has an outcome. The guard itself is not pooled: it is the signal of the layers below,
 * which may hold it until the body is over, and a recycled one would cancel another request.
 */
class GuardedCall implements Interception, Reusable<GuardedCall> {
  guard: DeadlineGuard | undefined = undefined;
  nextFree: GuardedCall | undefined = undefined;

  /** The guard now watches the answer's body, whose end is the end of the request. */
  answered(response: MeshResponse): MeshResponse {
    const guard = this.#release();
    whenBodyEnds(response.body, guard);
    return response;
  }

  failed(error: unknown): never {
    const guard = this.#release();
    guard.release();
    // Whatever a lower layer made of the abort, report why the request was cut, except that a
    // request still waiting for discovery's first endpoints says so (it was never sent).
    throw guard.aborted && guard.reason !== undefined && !isTrellisError(error, ErrorCode.NoEndpoints)
      ? guard.reason
      : error;
  }

  #release(): DeadlineGuard {
    const guard = this.guard as DeadlineGuard;
    this.guard = undefined;
    guardedCalls.give(this);
    return guard;
  }
}

const guardedCalls = new FreeList(() => new GuardedCall());

/** The rest of the stack runs under `guard`, which lives until the answer's body is over. */
function guarded(guard: DeadlineGuard): GuardedCall {
  const call = guardedCalls.take();
  call.guard = guard;
  return call;
}

/**
 * The `deadline` layer: gives every request one absolute deadline (its own `timeout`/`deadline`,
 * the service default, and the remaining time of the inbound request being handled, whichever
 * is earliest), fails at once when it has passed, cancels the request when it passes or when the
 * caller or the inbound request aborts, and tells the upstream how much time is left.
 *
 * Requests with no deadline and no signal to forward pass straight through: no timer, no token.
 *
 * @example
 * ```ts
 * Mesh.builder().service('users', (s) => s.discovery(d).layer(deadlines({ timeoutMs: 2000 })));
 * ```
 */
export function deadlines(options: DeadlineOptions = {}): Layer {
  const problems = validateDeadlineOptions(options);
  if (problems.length > 0) return invalidLayer(DEADLINE_LAYER, problems);
  const { timeoutMs, attemptTimeoutMs } = options;
  const propagate = options.propagate ?? true;
  const inherit = options.inherit ?? true;
  return interceptingLayer({
    name: DEADLINE_LAYER,
    intercept(): Interceptor {
      return function deadline(ctx: RequestContext): GuardedCall | Promise<MeshResponse> | undefined {
        let limit = ctx.deadline;
        if (timeoutMs !== undefined && limit === Number.POSITIVE_INFINITY) limit = stepNow() + timeoutMs;
        if (attemptTimeoutMs !== undefined && ctx.headersTimeout === undefined)
          ctx.headersTimeout = attemptTimeoutMs;
        const inbound = inherit ? currentInbound() : undefined;
        if (inbound !== undefined && inbound.deadline < limit) limit = inbound.deadline;
        if (limit === Number.POSITIVE_INFINITY && inbound === undefined) return undefined;
        const remaining = limit - stepNow();
        if (remaining <= 0) return Promise.reject(deadlineExceeded(ctx, false));
        ctx.deadline = limit;
        if (propagate && limit !== Number.POSITIVE_INFINITY) {
          const value = formatTimeoutHeader(remaining);
          // A request without headers (most) gets a literal of TIMEOUT_HEADER, spelled out so V8
          // builds it from a boilerplate: no copy loop, no keyed store.
          ctx.headers =
            ctx.headers === undefined
              ? { 'trellis-timeout-ms': value }
              : withHeader(ctx.headers, TIMEOUT_HEADER, value);
        }
        const guard = new DeadlineGuard(ctx, limit, ctx.signal, inbound?.signal);
        if (propagate && limit !== Number.POSITIVE_INFINITY) {
          guard.ownHeaders = ctx.headers;
          ctx.stamp = guard;
        }
        ctx.signal = guard;
        return guarded(guard);
      };
    },
  });
}

/** Sets the timeout header in headers the mesh made (where `withHeader` wrote it, lower-case). */
function setOwnTimeout(headers: HeaderBag, value: string): boolean {
  if (headers == null) return false;
  if (Array.isArray(headers)) {
    const at = headers.indexOf(TIMEOUT_HEADER);
    if (at < 0 || at % 2 !== 0) return false;
    headers[at + 1] = value;
    return true;
  }
  (headers as Record<string, string>)[TIMEOUT_HEADER] = value;
  return true;
}

function hasTimeoutHeader(ctx: RequestContext): boolean {
  const headers = ctx.headers;
  if (headers == null) return false;
  if (Array.isArray(headers)) return headers.includes(TIMEOUT_HEADER);
  return (headers as Record<string, unknown>)[TIMEOUT_HEADER] !== undefined;
}
