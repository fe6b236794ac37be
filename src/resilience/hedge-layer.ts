import { CancelToken, isAborted, offAbort, onAbort } from '../core/cancel-token.js';
import type { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { isFailedStatus } from '../core/failure-flags.js';
import { FreeList, type Reusable } from '../core/free-list.js';
import { type Interception, type Interceptor, interceptingLayer } from '../core/interceptor.js';
import { LatencyWindow } from '../core/latency-window.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../core/layer.js';
import { type Clock, type Timer, type Timers, timersOf } from '../core/time.js';
import { invalidLayer, optionKeys, unknownOptions } from '../core/validate.js';
import { isReplayable } from './replayable-body.js';
import { RetryBudget, validateBudgetOptions } from './retry-budget.js';

/** The layer name of {@link hedging}. */
export const HEDGE_LAYER = 'hedge';

/** Options for {@link hedging}. */
export interface HedgeOptions {
  /**
   * False makes the layer a pass-through (the default stack's setting).
   *
   * @defaultValue true
   */
  enabled?: boolean;
  /**
   * Send the backup once the first attempt is slower than this latency quantile of the service.
   *
   * @defaultValue 0.95
   */
  quantile?: number;
  /**
   * Backups may add at most this fraction of the traffic (their own budget).
   *
   * @defaultValue 0.05
   */
  maxExtraLoad?: number;
  /**
   * Samples (in the last `windowMs`) needed before any backup is sent.
   *
   * @defaultValue 100
   */
  minSamples?: number;
  /**
   * Latency samples count for about this long, in ms.
   *
   * @defaultValue 10 000
   */
  windowMs?: number;
  /**
   * The clock latencies are measured on and the backup timer runs on. A plain {@link Clock}
   * replaces the time only; {@link Timers} (for tests, a hand-moved one) drive the timer too.
   *
   * @defaultValue `performance.now` and Node's timers
   */
  clock?: Clock | Timers;
}

const HEDGE_KEYS = optionKeys<HedgeOptions>({
  enabled: true,
  quantile: true,
  maxExtraLoad: true,
  minSamples: true,
  windowMs: true,
  clock: true,
});

/** Lists what is wrong with hedging options, each as a sentence the user can act on. */
export function validateHedgeOptions(options: HedgeOptions): string[] {
  const problems = unknownOptions('hedging', options, HEDGE_KEYS);
  if (options === null || typeof options !== 'object') return problems;
  const { quantile, minSamples, windowMs } = options;
  if (quantile !== undefined && !(typeof quantile === 'number' && quantile > 0 && quantile < 1)) {
    problems.push(
      `hedging(): quantile must be a number between 0 and 1 (exclusive), got ${JSON.stringify(quantile)}`,
    );
  }
  if (minSamples !== undefined && !(Number.isInteger(minSamples) && minSamples >= 1)) {
    problems.push(`hedging(): minSamples must be an integer >= 1, got ${JSON.stringify(minSamples)}`);
  }
  if (windowMs !== undefined && !(typeof windowMs === 'number' && windowMs >= 100)) {
    problems.push(`hedging(): windowMs must be a number of ms >= 100, got ${JSON.stringify(windowMs)}`);
  }
  problems.push(...validateBudgetOptions({ percent: options.maxExtraLoad }, 'hedging()'));
  return problems;
}

const lostRace = new TrellisError(
  ErrorCode.Aborted,
  'A hedged attempt was cancelled because the other one answered first.',
);
const callerAborted = new TrellisError(ErrorCode.Aborted, 'The request was aborted by the caller.');

/** A copy of the context for a concurrent attempt (its own endpoint, signal and headers). */
function forkContext(ctx: RequestContext): RequestContext {
  return Object.assign(Object.create(Object.getPrototypeOf(ctx) as object) as RequestContext, ctx);
}

/** One attempt of a hedged request: its context, its cancel token, and its outcome. */
class Attempt {
  readonly token = new CancelToken();
  done = false;
  response: MeshResponse | undefined = undefined;
  error: unknown = undefined;
  readonly unlink: (() => void) | undefined;

  constructor(
    readonly ctx: RequestContext,
    parent: RequestContext['signal'],
    readonly started: number,
  ) {
    const token = this.token;
    const cancel = () => token.abort(((parent as CancelToken).reason as Error | undefined) ?? callerAborted);
    if (parent !== undefined && isAborted(parent)) cancel();
    if (parent === undefined || token.aborted) {
      this.unlink = undefined;
    } else {
      onAbort(parent, cancel);
      this.unlink = () => offAbort(parent, cancel);
    }
    ctx.signal = token;
  }
}

/**
 * A request with a primary attempt and, if it is slow, one backup on another endpoint: the first
 * good answer (not a 5xx) wins and the other attempt is cancelled.
 */
/** What every hedged request of one service shares. */
interface HedgeConfig {
  readonly next: Service;
  readonly window: LatencyWindow;
  readonly budget: RetryBudget;
  readonly service: ServiceHandle;
  readonly timers: Timers;
}

class HedgedRequest {
  readonly #config: HedgeConfig;
  readonly #ctx: RequestContext;
  readonly #parentSignal: RequestContext['signal'];
  readonly #attempts: Attempt[] = [];
  readonly #timer: Timer;
  #settled = false;
  #resolve!: (response: MeshResponse) => void;
  #reject!: (err: unknown) => void;
  readonly promise: Promise<MeshResponse>;

  constructor(config: HedgeConfig, ctx: RequestContext, delayMs: number) {
    this.#config = config;
    this.#ctx = ctx;
    this.#parentSignal = ctx.signal;
    this.promise = new Promise<MeshResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#launch(ctx);
    this.#timer = config.timers.setTimeout(launchBackup, delayMs, this);
  }

  #launch(ctx: RequestContext): void {
    const attempt = new Attempt(ctx, this.#parentSignal, this.#config.timers.now());
    this.#attempts.push(attempt);
    this.#config.next(ctx).then(
      (response) => this.#finish(attempt, response, undefined),
      (err: unknown) => this.#finish(attempt, undefined, err),
    );
  }

  /** Sends the backup if the request is still open, the budget allows and the deadline leaves time. */
  backup(): void {
    const ctx = this.#ctx;
    // Deadlines are on performance.now()'s clock whatever clock measures latencies.
    if (this.#settled || this.#attempts.length > 1 || performance.now() >= ctx.deadline) return;
    if (!this.#config.budget.tryWithdraw()) return;
    const backup = forkContext(ctx);
    backup.avoid = ctx.endpoint;
    backup.backup = true;
    this.#config.service.events.emit('hedge', this.#config.service.name, 'sent');
    backup.stamp?.restamp(backup);
    this.#launch(backup);
  }

  #finish(attempt: Attempt, response: MeshResponse | undefined, error: unknown): void {
    attempt.done = true;
    attempt.response = response;
    attempt.error = error;
    const good = response !== undefined && isGood(response);
    if (good) this.#config.window.record(this.#config.timers.now() - attempt.started);
    if (this.#settled) {
      if (response !== undefined) response.body.dump({ limit: 65_536 }).catch(() => {});
      attempt.unlink?.();
      return;
    }
    // A failure waits for the other attempt if one is still running; otherwise the best
    // failure (a 5xx answer rather than an error) is returned.
    if (good) this.#settle(attempt);
    else if (!this.#attempts.some((a) => !a.done))
      this.#settle(this.#attempts.find((a) => a.response) ?? attempt);
  }

  #settle(winner: Attempt): void {
    this.#settled = true;
    if (winner !== this.#attempts[0] && winner.response !== undefined) {
      this.#config.service.events.emit('hedge', this.#config.service.name, 'won');
    }
    this.#config.timers.clear(this.#timer);
    const ctx = this.#ctx;
    ctx.signal = this.#parentSignal;
    ctx.endpoint = winner.ctx.endpoint;
    for (const attempt of this.#attempts) {
      if (attempt === winner) continue;
      attempt.token.abort(lostRace);
      attempt.unlink?.();
      if (attempt.done && attempt.response !== undefined)
        attempt.response.body.dump({ limit: 65_536 }).catch(() => {});
    }
    if (winner.response === undefined) {
      winner.unlink?.();
      this.#reject(winner.error);
      return;
    }
    // The winner's body still listens to its token: keep forwarding the caller's abort until it closes.
    if (winner.unlink !== undefined) winner.response.body.once('close', winner.unlink);
    this.#resolve(winner.response);
  }
}

/** A good answer (not `Failed`: below 500) wins the race and is a latency sample. */
function isGood(response: MeshResponse): boolean {
  return !isFailedStatus(response.statusCode);
}

function launchBackup(request: HedgedRequest): void {
  request.backup();
}

/**
 * The `hedge` layer (backup requests, "The Tail at Scale"): when an idempotent request has not
 * answered by the service's observed latency quantile (p95 by default), one backup goes to
 * another endpoint; the first good answer wins and the other attempt is cancelled. Backups have
 * their own budget (5% extra load by default) and start only once enough latency samples exist.
 *
 * Off in the default stack (hedging doubles work on slow requests, a choice to make
 * deliberately); turn it on per service with `s.layer(hedging())`.
 */
export function hedging(options: HedgeOptions = {}): Layer {
  const problems = validateHedgeOptions(options);
  if (problems.length > 0) return invalidLayer(HEDGE_LAYER, problems);
  return interceptingLayer({
    name: HEDGE_LAYER,
    intercept(next: Service, service: ServiceHandle): Interceptor | undefined {
      if (options.enabled === false) return undefined;
      const timers = timersOf(options.clock);
      const window = new LatencyWindow({
        quantile: options.quantile,
        minSamples: options.minSamples,
        windowMs: options.windowMs,
        now: timers.now,
      });
      const budget = new RetryBudget({
        percent: options.maxExtraLoad ?? 0.05,
        minPerSecond: 0,
        now: timers.now,
      });
      const config: HedgeConfig = { next, window, budget, service, timers };

      // A call sent once is timed on a pooled record: its good answers feed the latency window.
      const timings: FreeList<TimedCall> = new FreeList(
        (): TimedCall => new TimedCall(window, timers, timings),
      );

      return function hedge(ctx: RequestContext): Interception | Promise<MeshResponse> {
        budget.deposit();
        const delay = window.value();
        if (delay < 0 || !ctx.idempotent || !isReplayable(ctx.body)) {
          const timed = timings.take();
          timed.started = timers.now();
          return timed;
        }
        return new HedgedRequest(config, ctx, Math.max(1, delay)).promise;
      };
    },
  });
}

/** A call the hedge layer sends once, timed from its start to its answer. */
class TimedCall implements Interception, Reusable<TimedCall> {
  started = 0;
  nextFree: TimedCall | undefined = undefined;

  constructor(
    private readonly window: LatencyWindow,
    private readonly timers: Timers,
    private readonly free: FreeList<TimedCall>,
  ) {}

  answered(response: MeshResponse): MeshResponse {
    const started = this.started;
    this.free.give(this);
    if (isGood(response)) this.window.record(this.timers.now() - started);
    return response;
  }

  failed(err: unknown): never {
    this.free.give(this);
    throw err;
  }
}
