import type { RandomSource } from '../core/time.js';
import { optionKeys } from '../core/validate.js';
import { DEFAULT_PANIC_THRESHOLD } from './eligibility.js';

/** Options every trellis balancer accepts. */
export interface BalancerOptions {
  /**
   * Share of `active` endpoints below which the balancer panics and uses ejected endpoints too,
   * 0 to 1 (default 0.5). 0 never panics while one endpoint is active.
   */
  panicThreshold?: number;
  /** Random numbers in `[0, 1)`; pass a seeded source for deterministic tests. */
  random?: RandomSource;
}

/** The keys of {@link BalancerOptions}, for the unknown-option check. */
export const BALANCER_KEYS = optionKeys<BalancerOptions>({ panicThreshold: true, random: true });

/** {@link BalancerOptions} with defaults applied. */
export interface ResolvedBalancerOptions {
  readonly panicThreshold: number;
  readonly random: RandomSource;
}

/** Applies the defaults. */
export function resolveBalancerOptions(options: BalancerOptions): ResolvedBalancerOptions {
  return {
    panicThreshold: options.panicThreshold ?? DEFAULT_PANIC_THRESHOLD,
    random: options.random ?? Math.random,
  };
}

/** Problems with the shared options, phrased for the builder's error list. */
export function checkBalancerOptions(name: string, options: BalancerOptions): string[] {
  const problems: string[] = [];
  const { panicThreshold, random } = options;
  if (panicThreshold !== undefined && !(panicThreshold >= 0 && panicThreshold <= 1)) {
    problems.push(
      `${name}: panicThreshold must be a number from 0 to 1, got ${JSON.stringify(panicThreshold)}`,
    );
  }
  if (random !== undefined && typeof random !== 'function') {
    problems.push(`${name}: random must be a function returning numbers in [0, 1)`);
  }
  return problems;
}

/** A problem message when `value` is set and is not a finite number > 0 (or >= 0 with `allowZero`). */
export function checkPositive(name: string, field: string, value: unknown, allowZero = false): string[] {
  if (value === undefined) return [];
  const ok = typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  return ok
    ? []
    : [
        `${name}: ${field} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${JSON.stringify(value)}`,
      ];
}
