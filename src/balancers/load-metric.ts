import type { MeshEndpoint } from '../service/mesh-endpoint.js';
import { type Clock, monotonicNow } from './clock.js';
import { PeakEwma } from './peak-ewma.js';
import { coarseNow, stalledBetween, watchStalls } from './stall-monitor.js';

/** How a P2C-style balancer prices an endpoint: lower cost wins. */
export interface LoadMetric {
  /** The time to price a pick at; may be a few ms coarse, to keep picks cheap. */
  pickTime(): number;
  /** Gives endpoints that are new to the balancer their starting state. Off the request path. */
  prepare(endpoints: readonly MeshEndpoint[]): void;
  /** The endpoint's cost at `now` (from `pickTime`). Slow start divides it by the endpoint's factor. */
  cost(endpoint: MeshEndpoint, now: number): number;
  /** Learns from a finished attempt. */
  observe(endpoint: MeshEndpoint, latencyMs: number, ok: boolean): void;
  /** The latency estimate to report in snapshots, if the metric keeps one. */
  latency(endpoint: MeshEndpoint): number | undefined;
}

/** Least loaded: cost is the number of requests in flight (plus one, so slow start can scale it). */
export const leastLoadedMetric: LoadMetric = {
  pickTime: () => 0,
  prepare() {},
  cost: (endpoint) => (endpoint.inflight + 1) / endpoint.slowStartFactor,
  observe() {},
  latency: () => undefined,
};

/**
 * Peak EWMA: cost is the latency estimate times (requests in flight + 1), as in Finagle and
 * tower, so an endpoint is avoided when it is slow or when it is busy.
 */
export class PeakEwmaMetric implements LoadMetric {
  readonly #decayMs: number;
  readonly #defaultMs: number;
  readonly #discountStalls: boolean;
  readonly #clock: Clock;
  readonly #injectedClock: boolean;
  /**
   * Picks price endpoints at the shared ticker's time (10 ms resolution, against a 10 s decay)
   * rather than read the clock on every request; samples use the precise clock.
   */
  readonly pickTime: Clock;

  /**
   * @param decayMs - the EWMA time constant (how long the past is remembered)
   * @param defaultMs - the starting estimate when no endpoint has one yet
   * @param discountStalls - subtract this process's event-loop stalls from latency samples
   * @param clock - an injected clock (tests), used for picks and samples alike
   */
  constructor(decayMs: number, defaultMs: number, discountStalls: boolean, clock: Clock | undefined) {
    this.#decayMs = decayMs;
    this.#defaultMs = defaultMs;
    this.#discountStalls = discountStalls;
    this.#clock = clock ?? monotonicNow;
    this.#injectedClock = clock !== undefined;
    this.pickTime = clock ?? coarseNow;
    if (discountStalls || clock === undefined) watchStalls();
  }

  /**
   * New endpoints start at the mean estimate of the others (a neutral guess, neither favoured
   * as an idle zero-latency node would be, nor shunned), or at the default when none has one.
   */
  prepare(endpoints: readonly MeshEndpoint[]): void {
    const now = this.#clock();
    let sum = 0;
    let known = 0;
    for (const endpoint of endpoints) {
      if (endpoint.balancerState instanceof PeakEwma) {
        sum += endpoint.balancerState.at(now, this.#decayMs);
        known++;
      }
    }
    const neutral = known > 0 ? sum / known : this.#defaultMs;
    for (const endpoint of endpoints) {
      if (!(endpoint.balancerState instanceof PeakEwma)) endpoint.balancerState = new PeakEwma(neutral, now);
    }
  }

  cost(endpoint: MeshEndpoint, now: number): number {
    const ewma = endpoint.balancerState as PeakEwma;
    return (ewma.at(now, this.#decayMs) * (endpoint.inflight + 1)) / endpoint.slowStartFactor;
  }

  /**
   * A failed attempt counts as at least twice the current estimate: an endpoint that fails fast
   * must not look like the fastest one and attract traffic. Event-loop stalls during the attempt
   * are not the endpoint's fault and are subtracted (see `stall-monitor.ts`).
   */
  observe(endpoint: MeshEndpoint, latencyMs: number, ok: boolean): void {
    const ewma = endpoint.balancerState;
    if (!(ewma instanceof PeakEwma)) return;
    const now = this.#clock();
    if (this.#discountStalls) {
      // Stalls are recorded in performance.now() time, which is the default clock.
      const end = this.#injectedClock ? performance.now() : now;
      latencyMs = Math.max(latencyMs - stalledBetween(end - latencyMs, end), 0);
    }
    const sample = ok ? latencyMs : Math.max(latencyMs, 2 * ewma.at(now, this.#decayMs));
    ewma.observe(sample, now, this.#decayMs);
  }

  latency(endpoint: MeshEndpoint): number | undefined {
    const ewma = endpoint.balancerState;
    return ewma instanceof PeakEwma ? ewma.at(this.#clock(), this.#decayMs) : undefined;
  }
}
