import { ErrorCode, TrellisError } from './errors.js';

/** Collects option problems so a layer factory can report all of them at once. */
export class OptionProblems {
  readonly #layer: string;
  readonly #problems: string[] = [];

  /** @param layer - the factory's name, used in messages (for example `circuitBreaker`) */
  constructor(layer: string) {
    this.#layer = layer;
  }

  /** Checks that `value` is a number in [min, max] (and an integer when asked). */
  number(name: string, value: number, min: number, max = Number.POSITIVE_INFINITY, integer = false): void {
    const ok =
      typeof value === 'number' &&
      !Number.isNaN(value) &&
      value >= min &&
      value <= max &&
      (!integer || Number.isInteger(value));
    if (!ok) {
      const kind = integer ? 'an integer' : 'a number';
      const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in [${min}, ${max}]`;
      this.#problems.push(`${name} must be ${kind} ${range}, got ${String(value)}`);
    }
  }

  /** Checks that `value` is a function, when given. */
  optionalFunction(name: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'function') this.#problems.push(`${name} must be a function`);
  }

  /** Records a free-form problem. */
  add(problem: string): void {
    this.#problems.push(problem);
  }

  /** @throws `TrellisError` with code `TRELLIS_INVALID_CONFIG` listing every problem, if any. */
  throwIfAny(): void {
    if (this.#problems.length === 0) return;
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      `${this.#layer}() options are invalid: ${this.#problems.join('; ')}.`,
      { details: { problems: [...this.#problems] } },
    );
  }
}
