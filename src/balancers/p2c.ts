import type { Balancer, BalancerFactory, EndpointSnapshot } from '../core/balancer.js';
import type { RequestContext } from '../core/context.js';
import type { EndpointView } from '../core/endpoint.js';
import type { Clock } from '../core/time.js';
import { optionKeys, unknownOptions } from '../core/validate.js';
import { eligibleEndpoints } from './eligibility.js';
import { type LoadMetric, leastLoadedMetric, PeakEwmaMetric } from './load-metric.js';
import {
  BALANCER_KEYS,
  type BalancerOptions,
  checkBalancerOptions,
  checkPositive,
  type ResolvedBalancerOptions,
  resolveBalancerOptions,
} from './options.js';
import { snapshotOf } from './snapshot.js';

/** Finagle, tower and linkerd2 all remember about 10 s of latency history. */
const DEFAULT_DECAY_MS = 10_000;
/** linkerd2's starting RTT estimate when nothing is known yet. */
const DEFAULT_LATENCY_MS = 30;

/** Options of {@link p2cPeakEwma}. */
export interface P2CPeakEwmaOptions extends BalancerOptions {
  /**
   * EWMA time constant in ms: how quickly old latency is forgotten.
   *
   * @defaultValue 10 000
   */
  decayMs?: number;
  /** Monotonic ms clock (`performance.now()` by default); inject one for deterministic tests. */
  clock?: Clock;
  /**
   * Starting latency estimate in ms when no endpoint has history yet.
   *
   * @defaultValue 30
   */
  initialLatencyMs?: number;
  /**
   * Subtract this process's event-loop stalls (GC pauses, long tasks, waiting for a CPU) from
   * latency samples, so a stall does not look like every endpoint being slow (default true).
   */
  discountStalls?: boolean;
}

/** The keys of {@link P2CPeakEwmaOptions}. */
export const P2C_PEAK_EWMA_KEYS = optionKeys<P2CPeakEwmaOptions>({
  panicThreshold: true,
  random: true,
  decayMs: true,
  clock: true,
  initialLatencyMs: true,
  discountStalls: true,
});

/**
 * Power of two choices: draw two distinct endpoints at random and keep the cheaper one. With
 * two draws the worst endpoint is never chosen while it is the worst, and the herd behaviour
 * of always choosing the single best one is avoided (Mitzenmacher, "The Power of Two Choices in
 * Randomized Load Balancing", 2001).
 */
export class P2CBalancer implements Balancer {
  readonly name: string;
  readonly #metric: LoadMetric;
  readonly #options: ResolvedBalancerOptions;
  #all: readonly EndpointView[] = [];
  #eligible: EndpointView[] = [];

  /**
   * @param name - algorithm name for snapshots and errors
   * @param metric - how endpoints are priced
   * @param options - panic threshold and random source
   */
  constructor(name: string, metric: LoadMetric, options: ResolvedBalancerOptions) {
    this.name = name;
    this.#metric = metric;
    this.#options = options;
  }

  update(endpoints: readonly EndpointView[]): void {
    this.#metric.prepare(endpoints);
    this.#all = endpoints;
    this.#eligible = eligibleEndpoints(endpoints, this.#options.panicThreshold).eligible;
    this.#metric.index(this.#eligible);
  }

  pick(_ctx?: RequestContext): EndpointView | undefined {
    const eligible = this.#eligible;
    const n = eligible.length;
    if (n < 2) return eligible[0];
    const random = this.#options.random;
    const i = Math.floor(random() * n);
    let j = Math.floor(random() * (n - 1));
    if (j >= i) j++;
    const a = eligible[i]!;
    const b = eligible[j]!;
    const now = this.#metric.pickTime();
    return this.#metric.cost(b, j, now) < this.#metric.cost(a, i, now) ? b : a;
  }

  observe(endpoint: EndpointView, latencyMs: number, ok: boolean, endedAt?: number): void {
    this.#metric.observe(endpoint, latencyMs, ok, endedAt);
  }

  snapshot(): EndpointSnapshot[] {
    return this.#all.map((ep) => snapshotOf(ep, this.#metric.latency(ep)));
  }
}

/**
 * P2C peak-EWMA, the default balancer: of two random endpoints, the one with the lower
 * `latency estimate x (requests in flight + 1)` wins. The estimate is a peak-sensitive moving
 * average of time to response headers, so a slow endpoint loses traffic after one slow answer
 * and wins it back gradually. New endpoints start at the others' mean estimate.
 *
 * @example
 * ```ts
 * Mesh.builder().service('users', (s) => s.discovery(dns).balancer(p2cPeakEwma({ decayMs: 5_000 })));
 * ```
 */
export function p2cPeakEwma(options: P2CPeakEwmaOptions = {}): BalancerFactory {
  const name = 'p2c-peak-ewma';
  return {
    name,
    validate: () => [
      ...unknownOptions('p2cPeakEwma', options, P2C_PEAK_EWMA_KEYS),
      ...checkBalancerOptions(name, options),
      ...checkPositive(name, 'decayMs', options.decayMs),
      ...checkPositive(name, 'initialLatencyMs', options.initialLatencyMs),
      ...checkClock(name, options.clock),
    ],
    create: () =>
      new P2CBalancer(
        name,
        new PeakEwmaMetric(
          options.decayMs ?? DEFAULT_DECAY_MS,
          options.initialLatencyMs ?? DEFAULT_LATENCY_MS,
          options.discountStalls ?? true,
          options.clock,
        ),
        resolveBalancerOptions(options),
      ),
  };
}

/** A problem message when `clock` is set and is not a function. */
export function checkClock(name: string, clock: unknown): string[] {
  return clock === undefined || typeof clock === 'function'
    ? []
    : [`${name}: clock must be a function returning milliseconds`];
}

/** P2C least-loaded: of two random endpoints, the one with fewer requests in flight wins. */
export function p2cLeastLoaded(options: BalancerOptions = {}): BalancerFactory {
  const name = 'p2c-least-loaded';
  return {
    name,
    validate: () => [
      ...unknownOptions('p2cLeastLoaded', options, BALANCER_KEYS),
      ...checkBalancerOptions(name, options),
    ],
    create: () => new P2CBalancer(name, leastLoadedMetric, resolveBalancerOptions(options)),
  };
}
