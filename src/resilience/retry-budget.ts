import type { RetryBudgetReadout } from '../core/service-readings.js';
import { stepNow } from '../core/step-clock.js';
import { OptionProblems, optionKeys } from '../core/validate.js';

/** Options for a {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /**
   * Extra attempts allowed per original request, as a fraction (0.2 = 20% more traffic).
   *
   * @defaultValue 0.2
   */
  percent?: number;
  /**
   * Extra attempts always allowed per second, so low-traffic services can still retry.
   *
   * @defaultValue 10
   */
  minPerSecond?: number;
  /**
   * How long a deposit counts, in ms.
   *
   * @defaultValue 10 000
   */
  ttlMs?: number;
  /**
   * Clock in ms (for tests).
   *
   * @defaultValue `performance.now`
   */
  now?: () => number;
}

/** The keys of {@link RetryBudgetOptions}, for the unknown-option check. */
export const BUDGET_KEYS = optionKeys<RetryBudgetOptions>({
  percent: true,
  minPerSecond: true,
  ttlMs: true,
  now: true,
});

/** Lists what is wrong with budget options, each as a sentence the user can act on. */
export function validateBudgetOptions(options: RetryBudgetOptions, where: string): string[] {
  const problems: string[] = [];
  const check = (key: 'percent' | 'minPerSecond' | 'ttlMs', ok: (v: number) => boolean, rule: string) => {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && ok(value))) {
      problems.push(`${where}: budget.${key} must be ${rule}, got ${JSON.stringify(value)}`);
    }
  };
  check('percent', (v) => v >= 0 && v <= 10, 'a number from 0 to 10');
  check('minPerSecond', (v) => v >= 0, 'a number >= 0');
  check('ttlMs', (v) => v >= 100, 'a number of ms >= 100');
  return problems;
}

/** The number of slots the ttl window is cut into. */
const SLOTS = 10;

/**
 * Caps extra attempts (retries, backup requests) at a fraction of the original traffic plus a
 * small floor, over a sliding window: Finagle's `RetryBudget` and gRPC's retry throttling. Each
 * original request deposits, each extra attempt withdraws; a withdrawal succeeds only while
 * `minPerSecond * ttl + percent * requests - extraAttempts >= 1` over the last `ttlMs`.
 *
 * Counts live in ten time slots, so a deposit or withdrawal is a few array operations.
 */
export class RetryBudget implements RetryBudgetReadout {
  readonly #percent: number;
  readonly #reserve: number;
  readonly #slotMs: number;
  readonly #now: () => number;
  readonly #deposits = new Float64Array(SLOTS);
  readonly #withdrawals = new Float64Array(SLOTS);
  #slot = 0;
  #slotStart: number;
  #depositSum = 0;
  #withdrawalSum = 0;

  /**
   * @param options - fraction, floor and window; Finagle's defaults (0.2, 10/s, 10 s)
   * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` for an unknown key or a value out of range.
   */
  constructor(options: RetryBudgetOptions = {}) {
    const problems = new OptionProblems('RetryBudget', options, BUDGET_KEYS);
    // The range checks are written for retries({ budget }); here the options are the budget's own.
    if (problems.list.length === 0)
      for (const problem of validateBudgetOptions(options, 'budget'))
        problems.add(problem.slice('budget: budget.'.length));
    problems.throwIfAny();
    const ttlMs = options.ttlMs ?? 10_000;
    this.#percent = options.percent ?? 0.2;
    this.#reserve = (options.minPerSecond ?? 10) * (ttlMs / 1000);
    this.#slotMs = ttlMs / SLOTS;
    // The default shares the clock reading of the step a deposit is made in (see step-clock.ts).
    this.#now = options.now ?? stepNow;
    this.#slotStart = this.#now();
  }

  /** Moves the window forward, forgetting slots older than the ttl. */
  #advance(): void {
    const now = this.#now();
    let elapsed = Math.floor((now - this.#slotStart) / this.#slotMs);
    if (elapsed <= 0) return;
    this.#slotStart += elapsed * this.#slotMs;
    if (elapsed > SLOTS) elapsed = SLOTS;
    for (let i = 0; i < elapsed; i++) {
      this.#slot = (this.#slot + 1) % SLOTS;
      this.#depositSum -= this.#deposits[this.#slot]!;
      this.#withdrawalSum -= this.#withdrawals[this.#slot]!;
      this.#deposits[this.#slot] = 0;
      this.#withdrawals[this.#slot] = 0;
    }
  }

  /** Records an original request. */
  deposit(): void {
    this.#advance();
    this.#deposits[this.#slot]!++;
    this.#depositSum++;
  }

  /** Takes one extra attempt from the budget; false when it is spent. */
  tryWithdraw(): boolean {
    if (this.balance() < 1) return false;
    this.#withdrawals[this.#slot]!++;
    this.#withdrawalSum++;
    return true;
  }

  /** Extra attempts currently allowed (may be fractional). */
  balance(): number {
    return this.capacity() - this.#withdrawalSum;
  }

  /** What is left of the budget now, never below 0 (read by the admin endpoint and the metrics). */
  left(): number {
    return Math.max(0, this.balance());
  }

  /** Extra attempts allowed over the window: the floor plus the share of the window's requests. */
  capacity(): number {
    this.#advance();
    return this.#reserve + this.#percent * this.#depositSum;
  }
}
