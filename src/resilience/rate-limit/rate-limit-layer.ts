import { ErrorCode, TrellisError } from '../../core/errors.js';
import { type Interceptor, interceptingLayer } from '../../core/interceptor.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../../core/layer.js';
import { type Clock, monotonicClock } from '../../core/time.js';
import { OptionProblems, optionKeys } from '../../core/validate.js';
import { TokenBucket } from './token-bucket.js';

/** The layer name of {@link rateLimit}. */
export const RATE_LIMIT_LAYER = 'rate-limit';

/** Options for {@link rateLimit}. */
export interface RateLimitOptions {
  /** Sustained attempts per second to the service (required). */
  ratePerSecond: number;
  /**
   * Attempts that may go in a burst after a quiet period.
   *
   * @defaultValue one second's worth, at least 1
   */
  burst?: number;
  /**
   * Time source for tests.
   *
   * @defaultValue `performance.now`
   */
  clock?: Clock;
}

const RATE_LIMIT_KEYS = optionKeys<RateLimitOptions>({ ratePerSecond: true, burst: true, clock: true });

/**
 * A client-side rate limit per service (a token bucket): at most `burst` attempts at once and
 * `ratePerSecond` sustained; attempts beyond that fail at once with `TRELLIS_RATE_LIMITED`
 * without being sent (`details.retryAfterMs` says when a token frees up). Use it to stay within
 * an upstream's published quota. Opt-in; insert it above `balance`, so retries and hedges count.
 *
 * @example
 * ```ts
 * s.stack((st) => st.insertBefore('balance', rateLimit({ ratePerSecond: 100, burst: 20 })));
 * ```
 * Invalid options are listed by `build()` with the configuration's other problems.
 */
export function rateLimit(options: RateLimitOptions): Layer {
  const problems = new OptionProblems('rateLimit', options, RATE_LIMIT_KEYS);
  const rate = options?.ratePerSecond;
  const burst = options?.burst ?? Math.max(1, rate);
  problems.number('ratePerSecond', rate, Number.MIN_VALUE);
  problems.number('burst', burst, 1);
  problems.optionalFunction('clock', options?.clock);
  const invalid = problems.invalidLayer(RATE_LIMIT_LAYER);
  if (invalid) return invalid;
  const clock = options.clock ?? monotonicClock;

  return interceptingLayer({
    name: RATE_LIMIT_LAYER,
    intercept(_next: Service, service: ServiceHandle): Interceptor {
      const bucket = new TokenBucket(rate, burst, clock);
      return function rateLimited(): Promise<MeshResponse> | undefined {
        if (bucket.tryTake()) return undefined;
        const retryAfterMs = Math.ceil(bucket.msUntilToken());
        return Promise.reject(
          new TrellisError(
            ErrorCode.RateLimited,
            `The client-side rate limit for '${service.name}' (${rate}/s, burst ${burst}) is used up, so ` +
              `the call was not sent. A token frees up in ${retryAfterMs} ms; slow down or raise the limit.`,
            { details: { service: service.name, retryAfterMs, requestSent: false } },
          ),
        );
      };
    },
  });
}
