import { OptionProblems, optionKeys } from '../../core/validate.js';
import type { ConcurrencyLimit } from './limit.js';

/** Options for {@link AimdLimit}. Defaults are in brackets. */
export interface AimdLimitOptions {
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
   * Factor applied on a drop, in (0, 1).
   *
   * @defaultValue 0.9
   */
  backoffRatio?: number;
  /**
   * An attempt slower than this counts as a drop, in ms.
   *
   * @defaultValue Infinity: only real drops count
   */
  latencyThresholdMs?: number;
}

const AIMD_KEYS = optionKeys<AimdLimitOptions>({
  initialLimit: true,
  minLimit: true,
  maxLimit: true,
  backoffRatio: true,
  latencyThresholdMs: true,
});

/**
 * Additive increase, multiplicative decrease (TCP's congestion rule, as in Netflix's
 * concurrency-limits `AIMDLimit`): each drop (or attempt slower than `latencyThresholdMs`)
 * multiplies the limit by `backoffRatio`; each success while the limit is at least half used adds
 * one. Successes while mostly idle teach nothing about capacity, so they leave it alone.
 */
export class AimdLimit implements ConcurrencyLimit {
  readonly adaptive = true;
  #limit: number;
  readonly #min: number;
  readonly #max: number;
  readonly #backoff: number;
  readonly #threshold: number;

  /** Invalid options are listed by `build()` with the configuration's other problems. */
  constructor(options: AimdLimitOptions = {}) {
    const min = options.minLimit ?? 1;
    const max = options.maxLimit ?? 1000;
    const initial = options.initialLimit ?? Math.min(Math.max(20, min), max);
    const backoff = options.backoffRatio ?? 0.9;
    const threshold = options.latencyThresholdMs ?? Number.POSITIVE_INFINITY;
    const problems = new OptionProblems('AimdLimit', options, AIMD_KEYS);
    problems.number('minLimit', min, 1);
    problems.number('maxLimit', max, min);
    problems.number('initialLimit', initial, min, max);
    problems.number('backoffRatio', backoff, Number.EPSILON, 1 - Number.EPSILON);
    problems.number('latencyThresholdMs', threshold, 0);
    problems.throwIfAny();
    this.#limit = initial;
    this.#min = min;
    this.#max = max;
    this.#backoff = backoff;
    this.#threshold = threshold;
  }

  get current(): number {
    return this.#limit;
  }

  onSample(rttMs: number, inflight: number, dropped: boolean): void {
    if (dropped || rttMs > this.#threshold) {
      this.#limit = Math.max(this.#min, this.#limit * this.#backoff);
    } else if (inflight * 2 >= this.#limit) {
      this.#limit = Math.min(this.#max, this.#limit + 1);
    }
  }
}
