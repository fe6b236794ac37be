import { OptionProblems, optionKeys } from '../../core/validate.js';
import type { ConcurrencyLimit } from './limit.js';

/** Options for {@link GradientLimit}. Defaults are in brackets. */
export interface GradientLimitOptions {
  /**
   * Starting limit.
   *
   * @defaultValue 20
   */
  initialLimit?: number;
  /**
   * Lowest limit.
   *
   * @defaultValue 1
   */
  minLimit?: number;
  /**
   * Highest limit.
   *
   * @defaultValue 1000
   */
  maxLimit?: number;
  /**
   * How far latency may rise over its long-run average before the limit shrinks.
   *
   * @defaultValue 1.5 = +50%
   */
  tolerance?: number;
  /**
   * Weight of each new target in the limit, in (0, 1].
   *
   * @defaultValue 0.2
   */
  smoothing?: number;
  /**
   * Samples in the long-run latency average (an exponential moving average).
   *
   * @defaultValue 500
   */
  longWindow?: number;
}

const GRADIENT_KEYS = optionKeys<GradientLimitOptions>({
  initialLimit: true,
  minLimit: true,
  maxLimit: true,
  tolerance: true,
  smoothing: true,
  longWindow: true,
});

/**
 * A latency-gradient limit (the idea of Netflix's `Gradient2Limit` and Envoy's adaptive
 * concurrency filter): compare each attempt's latency with a slow-moving average of latency.
 * While latency stays within `tolerance` of the average the limit grows by about its square root
 * (room to discover more capacity); when latency rises, the limit is scaled by
 * `tolerance * average / latency` (never below half), because rising latency means requests are
 * queueing somewhere. A drop halves the target. When latency falls far below the average (a
 * recovery), the average is pulled down faster so the limit can grow back.
 */
export class GradientLimit implements ConcurrencyLimit {
  readonly adaptive = true;
  #limit: number;
  #longRtt = 0;
  readonly #min: number;
  readonly #max: number;
  readonly #tolerance: number;
  readonly #smoothing: number;
  readonly #alpha: number;

  /** Invalid options are listed by `build()` with the configuration's other problems. */
  constructor(options: GradientLimitOptions = {}) {
    const min = options.minLimit ?? 1;
    const max = options.maxLimit ?? 1000;
    const initial = options.initialLimit ?? Math.min(Math.max(20, min), max);
    const tolerance = options.tolerance ?? 1.5;
    const smoothing = options.smoothing ?? 0.2;
    const longWindow = options.longWindow ?? 500;
    const problems = new OptionProblems('GradientLimit', options, GRADIENT_KEYS);
    problems.number('minLimit', min, 1);
    problems.number('maxLimit', max, min);
    problems.number('initialLimit', initial, min, max);
    problems.number('tolerance', tolerance, 1);
    problems.number('smoothing', smoothing, Number.EPSILON, 1);
    problems.number('longWindow', longWindow, 1, Number.MAX_SAFE_INTEGER, true);
    problems.throwIfAny();
    this.#limit = initial;
    this.#min = min;
    this.#max = max;
    this.#tolerance = tolerance;
    this.#smoothing = smoothing;
    this.#alpha = 2 / (longWindow + 1);
  }

  get current(): number {
    return this.#limit;
  }

  /** The long-run latency average, in ms (0 before the first sample). */
  get longRttMs(): number {
    return this.#longRtt;
  }

  onSample(rttMs: number, inflight: number, dropped: boolean): void {
    const rtt = Math.max(rttMs, 1e-3);
    this.#longRtt = this.#longRtt === 0 ? rtt : this.#longRtt + (rtt - this.#longRtt) * this.#alpha;
    if (this.#longRtt > 2 * rtt) this.#longRtt *= 0.95; // recovering: let the average catch up
    // Mostly idle: the sample says nothing about capacity.
    if (!dropped && inflight * 2 < this.#limit) return;
    const gradient = dropped ? 0.5 : Math.max(0.5, Math.min(1, (this.#tolerance * this.#longRtt) / rtt));
    const target = this.#limit * gradient + Math.sqrt(this.#limit);
    const next = this.#limit + (target - this.#limit) * this.#smoothing;
    this.#limit = Math.min(this.#max, Math.max(this.#min, next));
  }
}
