import pRetry, { type RetryContext } from 'p-retry';
import { jitteredBackoff, parseRetryAfter } from '../core/backoff.js';
import type { RequestContext } from '../core/context.js';
import { TrellisError } from '../core/errors.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../core/layer.js';
import { sleep } from '../core/time.js';
import { invalidLayer, optionKeys, unknownOptions } from '../core/validate.js';
import { abortedError } from '../transport/transport-errors.js';
import { bufferBody, isReplayable } from './replayable-body.js';
import { BUDGET_KEYS, RetryBudget, type RetryBudgetOptions, validateBudgetOptions } from './retry-budget.js';
import {
  DEFAULT_RETRY_STATUSES,
  isRetryableError,
  isRetryableResponse,
  RetryableResponse,
} from './retry-policy.js';

/** The longest `Retry-After` the retry layer waits for unless configured otherwise, in ms. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 2000;

/** The layer name of {@link retries}. */
export const RETRY_LAYER = 'retry';

/** Options for {@link retries}. */
export interface RetryOptions {
  /** Retries per request at most (attempts = 1 + retries); 2 by default, 0 turns retries off. */
  retries?: number;
  /** The service's retry budget: options, or a budget shared with other services. */
  budget?: RetryBudgetOptions | RetryBudget;
  /**
   * Backoff cap for the first retry in ms (doubling per retry, full jitter).
   *
   * @defaultValue 5
   */
  backoffBaseMs?: number;
  /**
   * Backoff cap for any retry in ms.
   *
   * @defaultValue 200
   */
  backoffMaxMs?: number;
  /**
   * Response statuses retried for idempotent requests.
   *
   * @defaultValue 502, 503 and 504
   */
  statuses?: readonly number[];
  /**
   * The longest `Retry-After` waited for, in ms. A response asking for a longer wait, or for one
   * that would outlast the request's deadline, is not retried: it is returned as it is,
   * `Retry-After` included, so no caller is held for as long as an upstream asks.
   *
   * @defaultValue 2000
   */
  maxRetryAfterMs?: number;
  /**
   * Streaming bodies of idempotent requests are buffered up to this size to allow retries.
   *
   * @defaultValue 64 KiB
   */
  maxBufferBytes?: number;
  /**
   * Random source in [0, 1) for the jitter (for tests).
   *
   * @defaultValue `Math.random`
   */
  random?: () => number;
}

const RETRY_KEYS = optionKeys<RetryOptions>({
  retries: true,
  budget: true,
  backoffBaseMs: true,
  backoffMaxMs: true,
  statuses: true,
  maxRetryAfterMs: true,
  maxBufferBytes: true,
  random: true,
});

/** Lists what is wrong with retry options, each as a sentence the user can act on. */
export function validateRetryOptions(options: RetryOptions): string[] {
  const problems = unknownOptions('retries', options, RETRY_KEYS);
  if (options === null || typeof options !== 'object') return problems;
  const nonNegative = (key: keyof RetryOptions, integer: boolean) => {
    const value = options[key];
    if (value === undefined) return;
    if (
      !(
        typeof value === 'number' &&
        Number.isFinite(value) &&
        value >= 0 &&
        (!integer || Number.isInteger(value))
      )
    ) {
      problems.push(
        `retries(): ${key} must be ${integer ? 'an integer' : 'a number'} >= 0, got ${JSON.stringify(value)}`,
      );
    }
  };
  nonNegative('retries', true);
  nonNegative('backoffBaseMs', false);
  nonNegative('backoffMaxMs', false);
  nonNegative('maxRetryAfterMs', false);
  nonNegative('maxBufferBytes', true);
  if (
    options.statuses !== undefined &&
    !options.statuses.every((s) => Number.isInteger(s) && s >= 400 && s <= 599)
  ) {
    problems.push('retries(): statuses must be HTTP status codes from 400 to 599');
  }
  if (options.budget !== undefined && !(options.budget instanceof RetryBudget)) {
    problems.push(
      ...unknownOptions('retries', options.budget, BUDGET_KEYS).map((p) =>
        p.replace('option', 'budget option'),
      ),
      ...validateBudgetOptions(options.budget, 'retries()'),
    );
  }
  return problems;
}

/** Discards a response that will not be returned, keeping its connection reusable when cheap. */
function discard(response: MeshResponse): void {
  response.body.dump({ limit: 65_536 }).catch(() => {});
}

/** The failure the caller gets when the budget stopped a retry: the original one, with a note. */
function budgetNoted(failure: unknown): unknown {
  if (!(failure instanceof TrellisError)) return failure;
  return new TrellisError(
    failure.code,
    `${failure.message} It was not retried: the service's retry budget is spent (too many retries recently), ` +
      'which protects an unhealthy upstream from a retry storm.',
    { cause: failure.cause, details: { ...failure.details, retryBudgetExhausted: true } },
  );
}

interface RetryConfig {
  next: Service;
  service: ServiceHandle;
  budget: RetryBudget;
  retries: number;
  baseMs: number;
  maxMs: number;
  statuses: ReadonlySet<number>;
  maxRetryAfterMs: number;
  random: () => number;
}

/**
 * The wait before retry number `retry`: the server's `Retry-After` if it sent one, else backoff;
 * `undefined` when the server asks for longer than the layer waits for.
 */
function delayFor(config: RetryConfig, failure: Error, retry: number): number | undefined {
  if (failure instanceof RetryableResponse) {
    const after = parseRetryAfter(failure.response.headers['retry-after'], Date.now());
    if (after !== undefined) return after > config.maxRetryAfterMs ? undefined : after;
  }
  return jitteredBackoff(retry, config.baseMs, config.maxMs, config.random());
}

/** Sleeps before a retry; a cancelled wait fails as a cancelled request does in any other phase. */
async function wait(ms: number, ctx: RequestContext): Promise<void> {
  try {
    await sleep(ms, ctx.signal);
  } catch (reason) {
    throw abortedError(reason, ctx, true);
  }
}

/** Runs the retries of one request (the first attempt already failed with `first`) through p-retry. */
async function retryLoop(config: RetryConfig, ctx: RequestContext, first: Error): Promise<MeshResponse> {
  let budgetSpent = false;
  const shouldRetry = async ({ error, retriesConsumed }: RetryContext): Promise<boolean> => {
    const delay = delayFor(config, error, retriesConsumed + 1);
    // Never retry past the deadline, nor when the wait alone would use it up.
    if (delay === undefined || performance.now() + delay >= ctx.deadline) return false;
    if (!config.budget.tryWithdraw()) {
      budgetSpent = true;
      config.service.events.emit('retryBudgetExhausted', config.service.name);
      return false;
    }
    config.service.events.emit('retry', config.service.name, retriesConsumed + 2, describe(error));
    if (error instanceof RetryableResponse) discard(error.response);
    if (delay > 0) await wait(delay, ctx);
    return true;
  };
  const attempt = async (attemptNumber: number): Promise<MeshResponse> => {
    if (attemptNumber === 1) throw first;
    ctx.attempt = attemptNumber;
    ctx.avoid = ctx.endpoint;
    ctx.stamp?.restamp(ctx);
    const response = await config.next(ctx);
    if (isRetryableResponse(response, ctx, config.statuses)) throw new RetryableResponse(response);
    return response;
  };
  try {
    return await pRetry(attempt, {
      retries: config.retries,
      minTimeout: 0,
      randomize: false,
      shouldRetry: (context) => (isRetryableFailure(context.error, ctx) ? shouldRetry(context) : false),
    });
  } catch (err) {
    if (err instanceof RetryableResponse) return err.response;
    throw budgetSpent ? budgetNoted(err) : err;
  }
}

/** A short name for a failure, for the `retry` event: the status or the error code. */
function describe(failure: Error): string {
  if (failure instanceof RetryableResponse) return `status ${failure.response.statusCode}`;
  return (failure as { code?: string }).code ?? failure.name;
}

function isRetryableFailure(err: Error, ctx: RequestContext): boolean {
  return err instanceof RetryableResponse || isRetryableError(err, ctx);
}

/**
 * The `retry` layer: retries failed attempts on another endpoint (each retry re-enters the
 * balance layer, asking it to avoid the endpoint that just failed), with jittered exponential
 * backoff or the server's `Retry-After`, within the request's deadline and the service's
 * {@link RetryBudget}. Only requests that are safe to repeat are retried: idempotent ones
 * (RFC 9110 methods, an `Idempotency-Key` header, or the caller's say), and any request that
 * provably never reached the server or that the server answered "not processed"
 * (`rejectUnprocessed`). Bodies are replayed only when they are bytes or were buffered whole.
 *
 * The first attempt runs outside p-retry, so a request that succeeds pays only a budget deposit.
 * When the budget is spent the original failure is returned, with `details.retryBudgetExhausted`.
 *
 * @example
 * ```ts
 * s.layer(retries({ retries: 3, budget: { percent: 0.1 } }))
 * ```
 */
export function retries(options: RetryOptions = {}): Layer {
  const problems = validateRetryOptions(options);
  if (problems.length > 0) return invalidLayer(RETRY_LAYER, problems);
  const maxRetries = options.retries ?? 2;
  const maxBufferBytes = options.maxBufferBytes ?? 65_536;
  return {
    name: RETRY_LAYER,
    wrap(next: Service, service: ServiceHandle): Service {
      if (maxRetries === 0) return next;
      const config: RetryConfig = {
        next,
        service,
        budget: options.budget instanceof RetryBudget ? options.budget : new RetryBudget(options.budget),
        retries: maxRetries,
        baseMs: options.backoffBaseMs ?? 5,
        maxMs: options.backoffMaxMs ?? 200,
        statuses: new Set(options.statuses ?? DEFAULT_RETRY_STATUSES),
        maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
        random: options.random ?? Math.random,
      };
      const budget = config.budget;
      if (service.readings !== undefined) service.readings.retryBudget = budget;
      const statuses = config.statuses;

      async function firstAttempt(ctx: RequestContext, replayable: boolean): Promise<MeshResponse> {
        let failure: Error;
        try {
          const response = await next(ctx);
          if (!replayable || !isRetryableResponse(response, ctx, statuses)) return response;
          failure = new RetryableResponse(response);
        } catch (err) {
          if (!replayable || !isRetryableError(err, ctx)) throw err;
          failure = err as Error;
        }
        return retryLoop(config, ctx, failure);
      }

      return function retry(ctx: RequestContext): Promise<MeshResponse> {
        budget.deposit();
        if (isReplayable(ctx.body)) return firstAttempt(ctx, true);
        if (!ctx.idempotent) return firstAttempt(ctx, false);
        return bufferBody(ctx, maxBufferBytes).then((prepared) => {
          ctx.body = prepared.body;
          return firstAttempt(ctx, prepared.replayable);
        });
      };
    },
  };
}
