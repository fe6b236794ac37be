import { isAborted, offAbort, onAbort } from '../../core/cancel-token.js';
import type { RequestContext } from '../../core/context.js';
import { ErrorCode, TrellisError } from '../../core/errors.js';
import { FreeList, type Reusable } from '../../core/free-list.js';
import {
  callIntercepted,
  type Interception,
  type Interceptor,
  interceptingLayer,
} from '../../core/interceptor.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../../core/layer.js';
import { isLocalError, type RejectionClassifier, upstreamRejected } from '../../core/outcome.js';
import { type Clock, monotonicClock } from '../../core/time.js';
import { OptionProblems, optionKeys } from '../../core/validate.js';
import { GradientLimit } from './gradient-limit.js';
import { type ConcurrencyLimit, FixedLimit } from './limit.js';
import { type Waiter, WaitQueue } from './wait-queue.js';

/** The layer name of {@link bulkhead} and {@link adaptiveConcurrency} (one concern, two limits). */
export const CONCURRENCY_LAYER = 'concurrency';

/** Queue settings shared by {@link bulkhead} and {@link adaptiveConcurrency}. */
export interface ConcurrencyQueueOptions {
  /**
   * Calls that may wait for a slot when the limit is reached; 0 rejects at once.
   *
   * @defaultValue 32
   */
  maxQueue?: number;
  /**
   * Longest wait for a slot in ms; the request's deadline also bounds it.
   *
   * @defaultValue 1 000
   */
  maxWaitMs?: number;
  /**
   * Time source for tests.
   *
   * @defaultValue `performance.now`
   */
  clock?: Clock;
}

/** Options for {@link bulkhead}. */
export interface BulkheadOptions extends ConcurrencyQueueOptions {
  /**
   * Most attempts in flight to the service at once.
   *
   * @defaultValue 64
   */
  maxInFlight?: number;
}

/** Options for {@link adaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions extends ConcurrencyQueueOptions {
  /**
   * Creates each service's limit.
   *
   * @defaultValue `new GradientLimit()`; or `new AimdLimit({...})`
   */
  limit?: (service: string) => ConcurrencyLimit;
  /**
   * Which outcomes are drops the limit must back off from.
   *
   * @defaultValue 429, 503, timeouts, unreachable
   */
  isDrop?: RejectionClassifier;
}

interface Settings {
  maxQueue: number;
  maxWaitMs: number;
  clock: Clock;
  limit: (service: string) => ConcurrencyLimit;
  isDrop: RejectionClassifier;
}

function queueSettings(problems: OptionProblems, options: ConcurrencyQueueOptions) {
  const maxQueue = options.maxQueue ?? 32;
  const maxWaitMs = options.maxWaitMs ?? 1_000;
  problems.number('maxQueue', maxQueue, 0, Number.MAX_SAFE_INTEGER, true);
  problems.number('maxWaitMs', maxWaitMs, 0, 2 ** 31 - 1);
  problems.optionalFunction('clock', options.clock);
  return { maxQueue, maxWaitMs, clock: options.clock ?? monotonicClock };
}

const BULKHEAD_KEYS = optionKeys<BulkheadOptions>({
  maxInFlight: true,
  maxQueue: true,
  maxWaitMs: true,
  clock: true,
});
const ADAPTIVE_CONCURRENCY_KEYS = optionKeys<AdaptiveConcurrencyOptions>({
  limit: true,
  isDrop: true,
  maxQueue: true,
  maxWaitMs: true,
  clock: true,
});

/**
 * A bulkhead: at most `maxInFlight` attempts in flight to the service, up to `maxQueue` more
 * waiting (first in, first out) for at most `maxWaitMs` or the request's deadline; beyond that,
 * calls fail at once with `TRELLIS_CONCURRENCY_LIMITED`. One slow service then cannot take every
 * socket and every pending promise in the process. Opt-in; insert it above `balance`.
 *
 * @example
 * ```ts
 * s.stack((st) => st.insertBefore('balance', bulkhead({ maxInFlight: 32, maxQueue: 64 })));
 * ```
 * Invalid options are listed by `build()` with the configuration's other problems.
 */
export function bulkhead(options: BulkheadOptions = {}): Layer {
  const problems = new OptionProblems('bulkhead', options, BULKHEAD_KEYS);
  const maxInFlight = options.maxInFlight ?? 64;
  problems.number('maxInFlight', maxInFlight, 1, Number.MAX_SAFE_INTEGER, true);
  const queue = queueSettings(problems, options);
  const invalid = problems.invalidLayer(CONCURRENCY_LAYER);
  if (invalid) return invalid;
  return concurrencyLayer({ ...queue, limit: () => new FixedLimit(maxInFlight), isDrop: upstreamRejected });
}

/**
 * An adaptive concurrency limit (Netflix concurrency-limits, Envoy adaptive concurrency): like
 * {@link bulkhead}, but the limit follows the service: each attempt's latency and whether it was
 * dropped feed the limit algorithm ({@link GradientLimit} by default, or {@link AimdLimit}), so
 * the limit shrinks when the upstream starts queueing and grows back when it recovers. Opt-in;
 * insert it above `balance`.
 *
 * @example
 * ```ts
 * s.stack((st) => st.insertBefore('balance', adaptiveConcurrency({ limit: () => new AimdLimit() })));
 * ```
 * Invalid options are listed by `build()` with the configuration's other problems.
 */
export function adaptiveConcurrency(options: AdaptiveConcurrencyOptions = {}): Layer {
  const problems = new OptionProblems('adaptiveConcurrency', options, ADAPTIVE_CONCURRENCY_KEYS);
  problems.optionalFunction('limit', options.limit);
  problems.optionalFunction('isDrop', options.isDrop);
  const queue = queueSettings(problems, options);
  const invalid = problems.invalidLayer(CONCURRENCY_LAYER);
  if (invalid) return invalid;
  return concurrencyLayer({
    ...queue,
    limit: options.limit ?? (() => new GradientLimit()),
    isDrop: options.isDrop ?? upstreamRejected,
  });
}

function concurrencyLayer(settings: Settings): Layer {
  return interceptingLayer({
    name: CONCURRENCY_LAYER,
    intercept(next: Service, service: ServiceHandle): Interceptor {
      const limit = settings.limit(service.name);
      const { clock, isDrop, maxQueue, maxWaitMs } = settings;
      const queue = new WaitQueue();
      let inflight = 0;

      const limited = (reason: string): TrellisError =>
        new TrellisError(
          ErrorCode.ConcurrencyLimited,
          `'${service.name}' already has ${inflight} calls in flight (limit ${Math.floor(limit.current)}) ` +
            `and ${reason}, so the call was shed without being sent. Retry later, lower the load, or raise ` +
            'the limit or queue of its concurrency layer.',
          { details: { service: service.name, inflight, limit: limit.current, requestSent: false } },
        );

      const release = (): void => {
        inflight--;
        while (queue.size > 0 && inflight < limit.current) {
          const waiter = queue.shift()!;
          settle(waiter);
          inflight++;
          waiter.resolve();
        }
      };

      const settle = (waiter: Waiter): void => {
        queue.remove(waiter);
        if (waiter.timer !== undefined) clearTimeout(waiter.timer);
        const signal = waiter.signal;
        if (signal !== undefined && waiter.onAbort !== undefined) offAbort(signal, waiter.onAbort);
      };

      // The slow path: allocates a promise, a waiter and maybe a timer, only when the limit is hit.
      const wait = (ctx: RequestContext): Promise<void> => {
        if (queue.size >= maxQueue) return Promise.reject(limited(`its wait queue (${maxQueue}) is full`));
        const signal = ctx.signal;
        if (signal !== undefined && isAborted(signal)) {
          return Promise.reject(aborted(service.name));
        }
        return new Promise<void>((resolve, reject) => {
          const waiter: Waiter = {
            resolve,
            reject,
            timer: undefined,
            signal,
            onAbort: undefined,
            prev: undefined,
            next: undefined,
            queued: false,
          };
          const untilDeadline = ctx.deadline - clock();
          const waitMs = Math.min(maxWaitMs, untilDeadline);
          if (waitMs <= 0) {
            reject(limited('the request has no time left to wait for a slot'));
            return;
          }
          queue.push(waiter);
          if (waitMs !== Number.POSITIVE_INFINITY) {
            waiter.timer = setTimeout(() => {
              settle(waiter);
              reject(
                untilDeadline <= maxWaitMs
                  ? new TrellisError(
                      ErrorCode.DeadlineExceeded,
                      `The deadline of a call to '${service.name}' passed while it waited for a concurrency slot.`,
                      { details: { service: service.name, requestSent: false } },
                    )
                  : limited(`no slot freed up within ${maxWaitMs} ms`),
              );
            }, waitMs);
          }
          if (signal !== undefined) {
            waiter.onAbort = () => {
              settle(waiter);
              reject(aborted(service.name));
            };
            onAbort(signal, waiter.onAbort);
          }
        });
      };

      // A call that holds a slot gives it back when it has an outcome. With a fixed limit one
      // interception serves every call; an adaptive limit times each call on a pooled sample.
      const releasing: Interception = {
        answered(response) {
          release();
          return response;
        },
        failed(err): never {
          release();
          throw err;
        },
      };
      const samples: FreeList<LimitSample> = new FreeList(
        (): LimitSample => new LimitSample(limit, isDrop, clock, release, samples),
      );
      const admitted = (): Interception => {
        if (!limit.adaptive) return releasing;
        const sample = samples.take();
        sample.started = clock();
        sample.inflightAtStart = inflight;
        return sample;
      };
      // The slow path: waits for a slot, then runs the rest of the stack itself.
      const queued = async (ctx: RequestContext): Promise<MeshResponse> => {
        await wait(ctx); // on success the releasing call has counted this one in flight
        return callIntercepted(next, ctx, admitted());
      };

      return function concurrency(ctx: RequestContext): Interception | Promise<MeshResponse> {
        if (inflight < limit.current && queue.size === 0) {
          inflight++;
          return admitted();
        }
        return queued(ctx);
      };
    },
  });
}

/** One call holding a slot of an adaptive limit: its latency and outcome are the limit's sample. */
class LimitSample implements Interception, Reusable<LimitSample> {
  started = 0;
  inflightAtStart = 0;
  nextFree: LimitSample | undefined = undefined;

  constructor(
    private readonly limit: ConcurrencyLimit,
    private readonly isDrop: RejectionClassifier,
    private readonly clock: Clock,
    private readonly release: () => void,
    private readonly free: FreeList<LimitSample>,
  ) {}

  answered(response: MeshResponse): MeshResponse {
    const { started, inflightAtStart } = this;
    this.free.give(this);
    try {
      this.limit.onSample(this.clock() - started, inflightAtStart, this.isDrop(response, undefined));
    } finally {
      this.release();
    }
    return response;
  }

  failed(err: unknown): never {
    const { started, inflightAtStart } = this;
    this.free.give(this);
    try {
      if (!isLocalError(err))
        this.limit.onSample(this.clock() - started, inflightAtStart, this.isDrop(undefined, err));
    } finally {
      this.release();
    }
    throw err;
  }
}

function aborted(service: string): TrellisError {
  return new TrellisError(
    ErrorCode.Aborted,
    `A call to '${service}' was aborted by the caller while waiting for a concurrency slot.`,
    {
      details: { service, requestSent: false },
    },
  );
}
