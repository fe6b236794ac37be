import CircuitBreaker from 'opossum';
import { type BodyEndWatcher, whenBodyEnds } from '../../core/body-end.js';
import type { RequestContext } from '../../core/context.js';
import { ErrorCode, TrellisError } from '../../core/errors.js';
import {
  callIntercepted,
  type Interception,
  type Interceptor,
  interceptingLayer,
} from '../../core/interceptor.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../../core/layer.js';
import { type FailureClassifier, upstreamFailure } from '../../core/outcome.js';
import { OptionProblems, optionKeys } from '../../core/validate.js';
import { acquireBucketRotation, releaseBucketRotation } from './bucket-rotation.js';

/** The layer name of {@link circuitBreaker}. */
export const BREAKER_LAYER = 'breaker';

/** Where a service's breaker stands; also the payload of the mesh's `circuit` event. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options for {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Open when more than this percentage of calls in the window failed.
   *
   * @defaultValue 50
   */
  errorThresholdPercentage?: number;
  /**
   * Calls the window must hold before the failure rate can open the breaker.
   *
   * @defaultValue 20
   */
  volumeThreshold?: number;
  /**
   * Length of the rolling window in ms.
   *
   * @defaultValue 10 000
   */
  rollingCountTimeout?: number;
  /**
   * Buckets in the window; the window slides one bucket at a time.
   *
   * @defaultValue 10
   */
  rollingCountBuckets?: number;
  /**
   * How long the breaker stays open before letting one probe through, in ms.
   *
   * @defaultValue 5 000
   */
  resetTimeout?: number;
  /**
   * Which outcomes count as failures. A response it does not count is judged again when its body
   * is over: a body that failed (cut short, stalled, past the deadline) is passed to it as the
   * error, and a failure then takes the call from the successes to the failures.
   *
   * @defaultValue 5xx responses and upstream errors (core's `upstreamFailure`)
   */
  isFailure?: FailureClassifier;
}

/** One bucket of opossum's rolling window: plain counters (among others trellis does not use). */
interface WindowBucket {
  fires: number;
  successes: number;
  failures: number;
  rejects: number;
}

/**
 * The part of opossum's `Status` the layer reads: `stats` (the window's sums) and `window` (its
 * buckets, newest first: a copy of the array, but the buckets are opossum's own), both
 * documented. The layer counts into the newest bucket itself rather than through opossum's
 * events (~200 ns a call) or its undocumented `Status#increment`, which also pushes a latency
 * sample per success or failure into an array nobody reads once percentiles are off. That the
 * buckets are live plain counters, rotated on the controller's `rotate`, is opossum's internal:
 * package.json pins opossum to the tested minor (~9.0.0), and
 * test/resilience/dependency-internals.test.ts fails when it changes.
 */
interface WindowStatus {
  readonly stats: CircuitBreaker.Stats;
  readonly window: WindowBucket[];
}

const BREAKER_KEYS = optionKeys<CircuitBreakerOptions>({
  errorThresholdPercentage: true,
  volumeThreshold: true,
  rollingCountTimeout: true,
  rollingCountBuckets: true,
  resetTimeout: true,
  isFailure: true,
});

const DEFAULTS = {
  errorThresholdPercentage: 50,
  volumeThreshold: 20,
  rollingCountTimeout: 10_000,
  rollingCountBuckets: 10,
  resetTimeout: 5_000,
} as const;

/**
 * A per-service circuit breaker on opossum's state machine. Closed, calls pass and their outcomes
 * fill a rolling window; when the window holds at least `volumeThreshold` calls and more than
 * `errorThresholdPercentage` of them failed, the breaker opens and calls fail at once with
 * `TRELLIS_CIRCUIT_OPEN`. After `resetTimeout` it is half-open: exactly one probe goes through,
 * and its outcome closes the breaker or opens it again. State changes are emitted as the mesh's
 * `circuit` event. The breaker sits above `retry`, so it judges whole calls, not attempts;
 * per-endpoint health is the `health` layer's job.
 *
 * opossum's `fire()` is not used per request: it allocates a promise, closures, an args array and
 * an event per call, and it can only see a 503 as a success. The layer keeps opossum's state,
 * reset timer, events and rolling window, records outcomes into the window itself, and applies
 * opossum's open rule. Breakers share one bucket-rotation timer per bucket length and take no
 * snapshots; each is shut down when its service closes.
 *
 * @example
 * ```ts
 * s.layer(circuitBreaker({ errorThresholdPercentage: 25, resetTimeout: 10_000 }));
 * ```
 * Invalid options are listed by `build()` with the configuration's other problems.
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): Layer {
  const settings = { ...DEFAULTS, ...options };
  const problems = new OptionProblems('circuitBreaker', options, BREAKER_KEYS);
  problems.number('errorThresholdPercentage', settings.errorThresholdPercentage, 0, 100);
  problems.number('volumeThreshold', settings.volumeThreshold, 0, Number.MAX_SAFE_INTEGER, true);
  problems.number('rollingCountTimeout', settings.rollingCountTimeout, 1, 2 ** 31 - 1, true);
  problems.number('rollingCountBuckets', settings.rollingCountBuckets, 1, 1_000, true);
  problems.number('resetTimeout', settings.resetTimeout, 1, 2 ** 31 - 1, true);
  problems.optionalFunction('isFailure', options.isFailure);
  if (settings.rollingCountTimeout % settings.rollingCountBuckets !== 0)
    problems.add('rollingCountTimeout must be a multiple of rollingCountBuckets');
  const invalid = problems.invalidLayer(BREAKER_LAYER);
  if (invalid) return invalid;
  const isFailure = options.isFailure ?? upstreamFailure;
  const bucketMs = settings.rollingCountTimeout / settings.rollingCountBuckets;

  return interceptingLayer({
    name: BREAKER_LAYER,
    intercept(next: Service, service: ServiceHandle): Interceptor {
      const rotation = acquireBucketRotation(bucketMs);
      const breaker = new CircuitBreaker(next, {
        name: service.name,
        timeout: false, // deadlines are the deadline layer's job, and opossum's timer would not abort
        resetTimeout: settings.resetTimeout,
        rollingCountTimeout: settings.rollingCountTimeout,
        rollingCountBuckets: settings.rollingCountBuckets,
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
        rotateBucketController: rotation,
      });
      const status = breaker.status as unknown as WindowStatus;
      // The newest bucket, which the layer counts into; opossum's own listener (registered
      // first, by the breaker) has put a new one in front when this one runs.
      let bucket = status.window[0]!;
      const nextBucket = (): void => {
        bucket = status.window[0]!;
      };
      rotation.on('rotate', nextBucket);
      let probing = false;
      breaker.on('open', () => service.events.emit('circuit', service.name, 'open'));
      breaker.on('halfOpen', () => service.events.emit('circuit', service.name, 'half-open'));
      breaker.on('close', () => service.events.emit('circuit', service.name, 'closed'));
      service.onClose(() => {
        rotation.off('rotate', nextBucket);
        breaker.shutdown();
        releaseBucketRotation(bucketMs);
      });

      const rejection = (): TrellisError => {
        bucket.rejects++;
        return new TrellisError(
          ErrorCode.CircuitOpen,
          `The circuit breaker for '${service.name}' is open after repeated failures, so the call failed ` +
            `fast without being sent. It lets a probe through ${settings.resetTimeout} ms after opening; ` +
            'handle this error as "service unavailable", or listen to the mesh "circuit" event.',
          { details: { service: service.name, requestSent: false } },
        );
      };

      const recordFailure = (probe: boolean): void => {
        bucket.failures++;
        if (probe) {
          probing = false;
          breaker.open(); // half-open -> open restarts opossum's reset timer
          return;
        }
        if (!breaker.closed) return;
        const stats = status.stats; // sums the window: done on failures only
        const calls = stats.successes + stats.failures;
        if (calls >= settings.volumeThreshold && calls > 0) {
          if ((stats.failures / calls) * 100 > settings.errorThresholdPercentage) breaker.open();
        }
      };

      // A body that failed turns a call its headers had counted as a success into a failure: it
      // moves from the successes to the failures.
      const failedAfterHeaders = (): void => {
        if (bucket.successes > 0) bucket.successes--;
        recordFailure(false);
      };
      // Under the default classifier every answer below 500 is a success and every body an
      // endpoint cut short or stalled a failure: the service reports those, at no cost per call.
      // A custom classifier judges each body's end itself, with what the body failed with as the
      // error (one watcher for every call of the layer: it needs nothing of the call).
      const custom = options.isFailure;
      let bodyJudge: BodyEndWatcher | undefined;
      if (custom === undefined) service.onBodyFailure(failedAfterHeaders);
      else
        bodyJudge = {
          bodyEnded(failure) {
            if (failure !== null && custom(undefined, failure)) failedAfterHeaders();
          },
        };

      const recordSuccess = (probe: boolean): void => {
        bucket.successes++;
        if (probe) {
          probing = false;
          breaker.close();
        }
      };

      const judge = (response: MeshResponse, probe: boolean): MeshResponse => {
        if (isFailure(response, undefined)) recordFailure(probe);
        else {
          recordSuccess(probe);
          if (bodyJudge !== undefined) whenBodyEnds(response.body, bodyJudge);
        }
        return response;
      };
      // While closed (nearly every call) the outcome needs nothing of the call: one interception
      // serves every call, and there is no async frame.
      const whileClosed: Interception = {
        answered: (response) => judge(response, false),
        failed(err): never {
          if (isFailure(undefined, err)) recordFailure(false);
          throw err;
        },
      };
      // Half-open: the one probe's outcome decides.
      const probe: Interception = {
        answered: (response) => judge(response, true),
        failed(err): never {
          if (isFailure(undefined, err)) recordFailure(true);
          else probing = false; // undecided: let the next call probe
          throw err;
        },
      };
      // Open: refused. Half-open: the one probe goes through.
      const notClosed = (ctx: RequestContext): Promise<MeshResponse> => {
        if (!breaker.halfOpen || probing) return Promise.reject(rejection());
        probing = true;
        bucket.fires++;
        return callIntercepted(next, ctx, probe);
      };

      return function breakerLayer(ctx: RequestContext): Interception | Promise<MeshResponse> {
        if (!breaker.closed) return notClosed(ctx);
        bucket.fires++;
        return whileClosed;
      };
    },
  });
}
