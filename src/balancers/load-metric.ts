import type { MeshEndpoint } from '../service/mesh-endpoint.js';
import { PeakEwma } from './peak-ewma.js';
import { stalledBetween, watchStalls } from './stall-monitor.js';

/** How a P2C-style balancer prices an endpoint: lower cost wins. */
export interface LoadMetric {
  /** Gives endpoints that are new to the balancer their starting state. Off the request path. */
  prepare(endpoints: readonly MeshEndpoint[], now: number): void;
  /** The endpoint's cost at `now`. Slow start divides it by the endpoint's factor. */
  cost(endpoint: MeshEndpoint, now: number): number;
  /** Learns from a finished attempt. */
  observe(endpoint: MeshEndpoint, latencyMs: number, ok: boolean, now: number): void;
  /** The latency estimate to report in snapshots, if the metric keeps one. */
  latency(endpoint: MeshEndpoint, now: number): number | undefined;
}

/** Least loaded: cost is the number of requests in flight (plus one, so slow start can scale it). */
export const leastLoadedMetric: LoadMetric = {
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

  /**
   * @param decayMs - the EWMA time constant (how long the past is remembered)
   * @param defaultMs - the starting estimate when no endpoint has one yet
   * @param discountStalls - subtract this process's event-loop stalls from latency samples
   */
  constructor(decayMs: number, defaultMs: number, discountStalls: boolean) {
    this.#decayMs = decayMs;
    this.#defaultMs = defaultMs;
    this.#discountStalls = discountStalls;
    if (discountStalls) watchStalls();
  }

  /**
   * New endpoints start at the mean estimate of the others (a neutral guess, neither favoured
   * as an idle zero-latency node would be, nor shunned), or at the default when none has one.
   */
  prepare(endpoints: readonly MeshEndpoint[], now: number): void {
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
  observe(endpoint: MeshEndpoint, latencyMs: number, ok: boolean, now: number): void {
    const ewma = endpoint.balancerState;
    if (!(ewma instanceof PeakEwma)) return;
    if (this.#discountStalls) {
      const end = performance.now();
      latencyMs = Math.max(latencyMs - stalledBetween(end - latencyMs, end), 0);
    }
    const sample = ok ? latencyMs : Math.max(latencyMs, 2 * ewma.at(now, this.#decayMs));
    ewma.observe(sample, now, this.#decayMs);
  }

  latency(endpoint: MeshEndpoint, now: number): number | undefined {
    const ewma = endpoint.balancerState;
    return ewma instanceof PeakEwma ? ewma.at(now, this.#decayMs) : undefined;
  }
}
