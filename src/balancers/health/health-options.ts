import { type Clock, type Timers, timersOf } from '../../core/time.js';
import { optionKeys, unknownOptions } from '../../core/validate.js';
import { checkPositive } from '../options.js';

/** Options of the success-rate outlier check. */
export interface SuccessRateOptions {
  /**
   * How often success rates are compared, in ms.
   *
   * @defaultValue 10 000 (as in Envoy and gRPC)
   */
  intervalMs?: number;
  /**
   * Requests an endpoint needs in an interval to be judged.
   *
   * @defaultValue 20
   */
  minRequests?: number;
  /**
   * Endpoints that need enough requests before any is judged.
   *
   * @defaultValue 3
   */
  minEndpoints?: number;
  /**
   * An endpoint is an outlier below `mean - stdevFactor x stdev` of the rates.
   *
   * @defaultValue 1.9 (Envoy's)
   */
  stdevFactor?: number;
  /**
   * ... and only when it is also at least this far below the mean (default 0.1), so that noise
   * among near-perfect endpoints ejects nobody.
   */
  minDifference?: number;
}

/** Options of the optional active HTTP health check. */
export interface ActiveCheckOptions {
  /** Path to `GET`, e.g. `/healthz`. A 2xx or 3xx answer passes. */
  path: string;
  /**
   * Time between checks of each endpoint, in ms.
   *
   * @defaultValue 5 000
   */
  intervalMs?: number;
  /**
   * Time allowed for the answer's headers, in ms.
   *
   * @defaultValue 1 000
   */
  timeoutMs?: number;
  /**
   * Failed checks in a row that eject an active endpoint.
   *
   * @defaultValue 2
   */
  failures?: number;
}

/** Options of {@link healthLayer}. Every field has a default. */
export interface HealthOptions {
  /**
   * Failures in a row (connection errors, timeouts, 5xx answers) that eject an endpoint
   * (default 5, Finagle's and Envoy's). Caller aborts and malformed requests do not count.
   */
  consecutiveFailures?: number;
  /** Success-rate outlier detection, or `false` to turn it off. */
  successRate?: SuccessRateOptions | false;
  /** First ejection time in ms (default 5 000, Finagle's); each repeat doubles it. */
  baseEjectionMs?: number;
  /**
   * Longest ejection in ms.
   *
   * @defaultValue 300 000 (Finagle's)
   */
  maxEjectionMs?: number;
  /**
   * At most this percentage of a service's endpoints is ejected at once (default 50; at least
   * one endpoint may always be ejected unless this is 0). Failures beyond it are left to the
   * balancer's latency and load signals rather than overload the few endpoints left.
   */
  maxEjectionPercent?: number;
  /**
   * Slow start window in ms (default 10 000): an endpoint that returns from ejection or joins
   * the set after the first discovery update starts at `slowStartMinFactor` of its fair share
   * and ramps up linearly over this window. 0 turns slow start off.
   */
  slowStartMs?: number;
  /**
   * Share of traffic at the start of slow start, in (0, 1].
   *
   * @defaultValue 0.1
   */
  slowStartMinFactor?: number;
  /** Active HTTP checks (off by default). Ejected endpoints then return only after a check passes. */
  activeCheck?: ActiveCheckOptions;
  /**
   * The clock ejections, slow start and success-rate intervals are timed on, and that the
   * layer's ticker and active checks run on. A plain {@link Clock} replaces the time only;
   * {@link Timers} (for tests, a hand-moved one) drive the ticker and the checks too.
   *
   * @defaultValue `performance.now` and Node's timers
   */
  clock?: Clock | Timers;
}

/** {@link HealthOptions} with defaults applied. */
export interface ResolvedHealthOptions {
  readonly consecutiveFailures: number;
  readonly successRate: Required<SuccessRateOptions> | undefined;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly slowStartMs: number;
  readonly slowStartMinFactor: number;
  readonly activeCheck: Required<ActiveCheckOptions> | undefined;
  readonly timers: Timers;
}

/** Applies the defaults. */
export function resolveHealthOptions(options: HealthOptions): ResolvedHealthOptions {
  const sr = options.successRate;
  const check = options.activeCheck;
  return {
    consecutiveFailures: options.consecutiveFailures ?? 5,
    successRate:
      sr === false
        ? undefined
        : {
            intervalMs: sr?.intervalMs ?? 10_000,
            minRequests: sr?.minRequests ?? 20,
            minEndpoints: sr?.minEndpoints ?? 3,
            stdevFactor: sr?.stdevFactor ?? 1.9,
            minDifference: sr?.minDifference ?? 0.1,
          },
    baseEjectionMs: options.baseEjectionMs ?? 5_000,
    maxEjectionMs: options.maxEjectionMs ?? 300_000,
    maxEjectionPercent: options.maxEjectionPercent ?? 50,
    slowStartMs: options.slowStartMs ?? 10_000,
    slowStartMinFactor: options.slowStartMinFactor ?? 0.1,
    activeCheck:
      check === undefined
        ? undefined
        : {
            path: check.path,
            intervalMs: check.intervalMs ?? 5_000,
            timeoutMs: check.timeoutMs ?? 1_000,
            failures: check.failures ?? 2,
          },
    timers: timersOf(options.clock),
  };
}

function integerAtLeast(field: string, value: unknown, min: number): string[] {
  if (value === undefined || (Number.isInteger(value) && (value as number) >= min)) return [];
  return [`health: ${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`];
}

const HEALTH_KEYS = optionKeys<HealthOptions>({
  consecutiveFailures: true,
  successRate: true,
  baseEjectionMs: true,
  maxEjectionMs: true,
  maxEjectionPercent: true,
  slowStartMs: true,
  slowStartMinFactor: true,
  activeCheck: true,
  clock: true,
});
const SUCCESS_RATE_KEYS = optionKeys<SuccessRateOptions>({
  intervalMs: true,
  minRequests: true,
  minEndpoints: true,
  stdevFactor: true,
  minDifference: true,
});
const ACTIVE_CHECK_KEYS = optionKeys<ActiveCheckOptions>({
  path: true,
  intervalMs: true,
  timeoutMs: true,
  failures: true,
});

/** Every problem with the options, phrased for the builder's error list. */
export function checkHealthOptions(options: HealthOptions): string[] {
  if (options === null || typeof options !== 'object')
    return unknownOptions('healthLayer', options, HEALTH_KEYS);
  const problems = [
    ...unknownOptions('healthLayer', options, HEALTH_KEYS),
    ...integerAtLeast('consecutiveFailures', options.consecutiveFailures, 1),
    ...checkPositive('health', 'baseEjectionMs', options.baseEjectionMs),
    ...checkPositive('health', 'maxEjectionMs', options.maxEjectionMs),
    ...checkPositive('health', 'slowStartMs', options.slowStartMs, true),
  ];
  const { maxEjectionPercent: pct, slowStartMinFactor: min, successRate: sr, activeCheck: check } = options;
  if (pct !== undefined && !(pct >= 0 && pct <= 100)) {
    problems.push(`health: maxEjectionPercent must be a number from 0 to 100, got ${JSON.stringify(pct)}`);
  }
  if (min !== undefined && !(min > 0 && min <= 1)) {
    problems.push(`health: slowStartMinFactor must be a number in (0, 1], got ${JSON.stringify(min)}`);
  }
  if ((options.baseEjectionMs ?? 5_000) > (options.maxEjectionMs ?? 300_000)) {
    problems.push('health: baseEjectionMs must not exceed maxEjectionMs');
  }
  if (sr !== undefined && sr !== false) {
    problems.push(
      ...unknownOptions('healthLayer', sr, SUCCESS_RATE_KEYS).map((p) =>
        p.replace('option', 'successRate option'),
      ),
      ...checkPositive('health', 'successRate.intervalMs', sr.intervalMs),
      ...integerAtLeast('successRate.minRequests', sr.minRequests, 1),
      ...integerAtLeast('successRate.minEndpoints', sr.minEndpoints, 2),
      ...checkPositive('health', 'successRate.stdevFactor', sr.stdevFactor, true),
      ...checkPositive('health', 'successRate.minDifference', sr.minDifference, true),
    );
  }
  if (check !== undefined) {
    problems.push(
      ...unknownOptions('healthLayer', check, ACTIVE_CHECK_KEYS).map((p) =>
        p.replace('option', 'activeCheck option'),
      ),
    );
    if (typeof check.path !== 'string' || !check.path.startsWith('/')) {
      problems.push(`health: activeCheck.path must start with '/', got ${JSON.stringify(check.path)}`);
    }
    problems.push(
      ...checkPositive('health', 'activeCheck.intervalMs', check.intervalMs),
      ...checkPositive('health', 'activeCheck.timeoutMs', check.timeoutMs),
      ...integerAtLeast('activeCheck.failures', check.failures, 1),
    );
  }
  return problems;
}
