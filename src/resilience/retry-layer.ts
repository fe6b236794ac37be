import type { RequestContext } from '../core/context.js';
import { type Interception, type Interceptor, interceptingLayer } from '../core/interceptor.js';
import type { Layer, Service, ServiceHandle } from '../core/layer.js';
import { invalidLayer, optionKeys, unknownOptions } from '../core/validate.js';
import { FirstAttempts } from './first-attempt.js';
import { isReplayable, ReplayableStream } from './replayable-body.js';
import { BUDGET_KEYS, RetryBudget, type RetryBudgetOptions, validateBudgetOptions } from './retry-budget.js';
import type { RetryConfig } from './retry-loop.js';
import { type DefaultRetryPolicyOptions, defaultRetryPolicy, type RetryPolicy } from './retry-policy.js';

export { DEFAULT_MAX_RETRY_AFTER_MS } from './retry-policy.js';

/** The layer name of {@link retries}. */
export const RETRY_LAYER = 'retry';

/**
 * Options for {@link retries}. `backoffBaseMs`, `backoffMaxMs`, `statuses`, `maxRetryAfterMs`
 * and `random` configure the default policy ({@link defaultRetryPolicy}); with `policy` set,
 * give them to that policy instead.
 */
export interface RetryOptions extends DefaultRetryPolicyOptions {
  /** Retries per request at most (attempts = 1 + retries); 2 by default, 0 turns retries off. */
  retries?: number;
  /** The service's retry budget: options, or a budget shared with other services. */
  budget?: RetryBudgetOptions | RetryBudget;
  /**
   * Which outcomes are retried and how long to wait first.
   *
   * @defaultValue {@link defaultRetryPolicy} with this object's other options
   */
  policy?: RetryPolicy;
  /**
   * How much of a streamed body (a `Readable` or an async iterable) of an idempotent request is
   * kept to replay on a retry, in bytes. The body is sent as it is produced (chunked when it has
   * no content-length) and a copy of what has been sent is kept up to this size; a body longer
   * than this is not retried once it has started (its failure says so, with
   * `details.retryRefused: 'body-too-long'`), since a half-read stream cannot be sent again.
   *
   * @defaultValue 64 KiB
   */
  maxBufferBytes?: number;
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
  policy: true,
});

/** The options that configure the default policy, which a custom `policy` replaces. */
const POLICY_KEYS = ['backoffBaseMs', 'backoffMaxMs', 'statuses', 'maxRetryAfterMs', 'random'] as const;

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
  const { policy } = options;
  if (policy !== undefined) {
    if (
      policy === null ||
      typeof policy !== 'object' ||
      typeof policy.shouldRetry !== 'function' ||
      typeof policy.delayMs !== 'function'
    ) {
      problems.push(
        'retries(): policy must be an object with shouldRetry() and delayMs() methods (see RetryPolicy)',
      );
    }
    for (const key of POLICY_KEYS) {
      if (options[key] !== undefined) {
        problems.push(
          `retries(): ${key} configures the default policy, which policy replaces: ` +
            `give it to your policy (for example defaultRetryPolicy({ ${key} }) to build on the default)`,
        );
      }
    }
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

/**
 * The `retry` layer: retries failed attempts on another endpoint (each retry re-enters the
 * balance layer, asking it to avoid the endpoint that just failed), with jittered exponential
 * backoff or the server's `Retry-After`, within the request's deadline and the service's
 * {@link RetryBudget}. Only requests that are safe to repeat are retried: idempotent ones
 * (RFC 9110 methods, an `Idempotency-Key` header, or the caller's say), and any request that
 * provably never reached the server or that the server answered "not processed"
 * (`rejectUnprocessed`): that is the default {@link RetryPolicy}, which `policy` replaces.
 * Bodies are replayed when they are whole (bytes, a string, a Blob), or streamed and no longer
 * than `maxBufferBytes` (the part sent so far is kept; see {@link RetryOptions.maxBufferBytes}).
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
  return interceptingLayer({
    name: RETRY_LAYER,
    intercept(next: Service, service: ServiceHandle): Interceptor | undefined {
      if (maxRetries === 0) return undefined;
      const config: RetryConfig = {
        next,
        service,
        budget: options.budget instanceof RetryBudget ? options.budget : new RetryBudget(options.budget),
        retries: maxRetries,
        policy: options.policy ?? defaultRetryPolicy(options),
      };
      const { budget } = config;
      service.readings.retryBudget = budget;

      const first = new FirstAttempts(config);

      return function retry(ctx: RequestContext): Interception | undefined {
        budget.deposit();
        if (isReplayable(ctx.body)) return first.start(ctx, undefined);
        // A body that cannot be sent again: the request goes once.
        if (!ctx.idempotent) return undefined;
        const stream = new ReplayableStream(ctx, maxBufferBytes);
        ctx.body = stream.attempt();
        return first.start(ctx, stream);
      };
    },
  });
}
