import { ErrorCode, TrellisError } from './errors.js';
import type { Layer } from './layer.js';
import { nearMiss } from './near-miss.js';

/**
 * Problems with an options object's keys: not an object, or keys the factory does not know (a
 * typo such as `retires` would otherwise be ignored without a word), each with the near key and
 * the list of known ones. Every options-taking factory runs this first.
 *
 * @param factory - the factory's name as users write it (`retries`, `roundRobin`)
 * @param options - what the caller passed; `undefined` is fine (all defaults)
 * @param known - the keys the factory reads
 */
export function unknownOptions(factory: string, options: unknown, known: readonly string[]): string[] {
  if (options === undefined) return [];
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return [`${factory}() takes an options object ({ ${known.join(', ')} }), got ${JSON.stringify(options)}`];
  }
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = nearMiss(key, known);
    problems.push(
      `${factory}(): unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ''}; known options: ${known.join(', ')}`,
    );
  }
  return problems;
}

/**
 * A stand-in for a layer whose options are invalid: `build()` lists its problems with every other
 * problem of the configuration (so a bad factory call does not hide the rest), and building it
 * outside a mesh builder throws them.
 */
export function invalidLayer(name: string, problems: readonly string[]): Layer {
  return {
    name,
    validate: () => problems,
    wrap() {
      throw new TrellisError(ErrorCode.InvalidConfig, `Invalid '${name}' layer: ${problems.join('; ')}.`, {
        details: { problems },
      });
    },
  };
}

/**
 * Collects a factory's option problems, each phrased `factory(): what is wrong, got X`, so that
 * all of them are reported at once: layer factories hand them to `build()` (see
 * {@link invalidLayer}), classes throw them from their constructor.
 */
export class OptionProblems {
  readonly #factory: string;
  readonly #problems: string[];

  /**
   * @param factory - the factory's name, used in messages (for example `circuitBreaker`)
   * @param options - the options given, checked for unknown keys against `known`
   * @param known - the keys the factory reads
   */
  constructor(factory: string, options: unknown, known: readonly string[]) {
    this.#factory = factory;
    this.#problems = unknownOptions(factory, options, known);
  }

  /** The problems found so far. */
  get list(): readonly string[] {
    return this.#problems;
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
      this.add(`${name} must be ${kind} ${range}, got ${String(value)}`);
    }
  }

  /** Checks that `value` is a function, when given. */
  optionalFunction(name: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'function') this.add(`${name} must be a function`);
  }

  /** Records a free-form problem. */
  add(problem: string): void {
    this.#problems.push(`${this.#factory}(): ${problem}`);
  }

  /** For layer factories: undefined when the options are valid, else an {@link invalidLayer}. */
  invalidLayer(name: string): Layer | undefined {
    return this.#problems.length === 0 ? undefined : invalidLayer(name, this.#problems);
  }

  /** For classes: @throws `TrellisError` with code `TRELLIS_INVALID_CONFIG` listing every problem, if any. */
  throwIfAny(): void {
    if (this.#problems.length === 0) return;
    throw new TrellisError(ErrorCode.InvalidConfig, `Invalid options: ${this.#problems.join('; ')}.`, {
      details: { problems: [...this.#problems] },
    });
  }
}

/**
 * The option keys of `T` for {@link unknownOptions}, which the compiler checks are complete:
 * `optionKeys<RetryOptions>({ retries: true, budget: true, ... })` fails to compile when an
 * option is added to the interface and not here.
 */
export function optionKeys<T>(keys: Record<keyof Required<T>, true>): readonly string[] {
  return Object.keys(keys);
}

/**
 * For functions and constructors that throw on bad options (rather than report them to
 * `build()`): refuses an options object with keys `factory` does not know.
 *
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` listing each unknown key, its near miss and
 *   the known keys (see {@link unknownOptions}).
 */
export function refuseUnknownOptions(factory: string, options: unknown, known: readonly string[]): void {
  new OptionProblems(factory, options, known).throwIfAny();
}
