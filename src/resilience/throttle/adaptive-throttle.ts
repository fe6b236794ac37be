import { ErrorCode, TrellisError } from '../../core/errors.js';
import { type Interception, type Interceptor, interceptingLayer } from '../../core/interceptor.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../../core/layer.js';
import { type RejectionClassifier, upstreamRejected } from '../../core/outcome.js';
import { type Clock, monotonicClock, type Random } from '../../core/time.js';
import { OptionProblems, optionKeys } from '../../core/validate.js';
import { WindowedCounts } from '../../core/windowed-counts.js';

/** The layer name of {@link adaptiveThrottle}. */
export const THROTTLE_LAYER = 'throttle';

/** Options for {@link adaptiveThrottle}. Defaults are in brackets. */
export interface AdaptiveThrottleOptions {
  /**
   * Multiplier K: the client sends up to K times what the upstream accepts.
   *
   * @defaultValue 2
   */
  k?: number;
  /**
   * Window the counts cover, in ms.
   *
   * @defaultValue 120 000, the SRE book's two minutes
   */
  windowMs?: number;
  /**
   * Buckets in the window.
   *
   * @defaultValue 12
   */
  buckets?: number;
  /**
   * Which outcomes are upstream rejections.
   *
   * @defaultValue 429, 503, timeouts, unreachable
   */
  isRejection?: RejectionClassifier;
  /**
   * Time source for tests.
   *
   * @defaultValue `performance.now`
   */
  clock?: Clock;
  /**
   * Uniform random source for tests.
   *
   * @defaultValue `Math.random`
   */
  random?: Random;
}

/**
 * The probability with which the adaptive throttle rejects a call locally, from the Google SRE
 * book ("Handling Overload"): `max(0, (requests - k * accepts) / (requests + 1))`. It is 0 while
 * the upstream accepts at least one call in `k`, and tends to 1 when it accepts none.
 */
export function throttleProbability(requests: number, accepts: number, k: number): number {
  return Math.max(0, (requests - k * accepts) / (requests + 1));
}

const THROTTLE_KEYS = optionKeys<AdaptiveThrottleOptions>({
  k: true,
  windowMs: true,
  buckets: true,
  isRejection: true,
  clock: true,
  random: true,
});

/**
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"): counts, per service,
 * the attempts made and the attempts the upstream accepted over a sliding window, and rejects
 * new attempts locally with the probability `max(0, (requests - k * accepts) / (requests + 1))`,
 * failing them with `TRELLIS_RATE_LIMITED`.
 * When the upstream is shedding load, most of the excess never leaves the client, yet a share
 * still goes through so recovery is noticed at once. Opt-in; insert it above `balance`.
 *
 * @example
 * ```ts
 * s.stack((st) => st.insertBefore('balance', adaptiveThrottle({ k: 2 })));
 * ```
 * Invalid options are listed by `build()` with the configuration's other problems.
 */
export function adaptiveThrottle(options: AdaptiveThrottleOptions = {}): Layer {
  const k = options.k ?? 2;
  const windowMs = options.windowMs ?? 120_000;
  const buckets = options.buckets ?? 12;
  const problems = new OptionProblems('adaptiveThrottle', options, THROTTLE_KEYS);
  problems.number('k', k, 1);
  problems.number('windowMs', windowMs, 1);
  problems.number('buckets', buckets, 1, 10_000, true);
  problems.optionalFunction('isRejection', options.isRejection);
  problems.optionalFunction('clock', options.clock);
  problems.optionalFunction('random', options.random);
  const invalid = problems.invalidLayer(THROTTLE_LAYER);
  if (invalid) return invalid;
  const isRejection = options.isRejection ?? upstreamRejected;
  const clock = options.clock ?? monotonicClock;
  const random = options.random ?? Math.random;

  return interceptingLayer({
    name: THROTTLE_LAYER,
    intercept(_next: Service, service: ServiceHandle): Interceptor {
      const counts = new WindowedCounts(windowMs, buckets, clock());
      // A call is counted when its outcome is known (or when it is throttled), never while in
      // flight: counted at send time, a burst of calls in flight would look like rejections.
      const settle = (accepted: boolean): void => {
        counts.advance(clock());
        counts.addRequest();
        if (accepted) counts.addAccept();
      };
      // One interception serves every call: the outcome is all it needs.
      const counted: Interception = {
        answered(response) {
          settle(!isRejection(response, undefined));
          return response;
        },
        failed(err): never {
          settle(!isRejection(undefined, err));
          throw err;
        },
      };
      return function throttle(): Interception | Promise<MeshResponse> {
        counts.advance(clock());
        const p = throttleProbability(counts.requests, counts.accepts, k);
        if (p > 0 && random() < p) {
          counts.addRequest();
          return Promise.reject(
            new TrellisError(
              ErrorCode.RateLimited,
              `'${service.name}' is rejecting calls (it accepted ${counts.accepts} of the last ` +
                `${counts.requests - 1}), so the client throttled this one without sending it ` +
                `(rejection probability ${p.toFixed(2)}). Back off; the throttle eases as soon as the service accepts calls again.`,
              { details: { service: service.name, probability: p, requestSent: false } },
            ),
          );
        }
        return counted;
      };
    },
  });
}
