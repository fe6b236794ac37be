import type { EndpointView } from '../core/endpoint.js';
import { type Clock, monotonicNow } from '../core/time.js';
import { PeakEwma } from './peak-ewma.js';
import { coarseNow, stalledBetween, watchStalls } from './stall-monitor.js';

/** How a P2C-style balancer prices an endpoint: lower cost wins. */
export interface LoadMetric {
  /** The time to price a pick at; may be a few ms coarse, to keep picks cheap. */
  pickTime(): number;
  /** Gives endpoints that are new to the balancer their starting state. Off the request path. */
  prepare(endpoints: readonly EndpointView[]): void;
  /** Takes the list the balancer draws from, so `cost` can be asked by position. Off the request path. */
  index(candidates: readonly EndpointView[]): void;
  /**
   * The cost at `now` (from `pickTime`) of the endpoint at `position` in the indexed list. Slow
   * start divides it by the endpoint's factor.
   */
  cost(endpoint: EndpointView, position: number, now: number): number;
  /** Learns from a finished attempt (`endedAt` on `performance.now()`'s clock, when known). */
  observe(endpoint: EndpointView, latencyMs: number, ok: boolean, endedAt?: number): void;
  /** The latency estimate to report in snapshots, if the metric keeps one. */
  latency(endpoint: EndpointView): number | undefined;
}

/** Least loaded: cost is the number of requests in flight (plus one, so slow start can scale it). */
export const leastLoadedMetric: LoadMetric = {
  pickTime: () => 0,
  prepare() {},
  index() {},
  cost: (endpoint) => (endpoint.inflight + 1) / endpoint.slowStartFactor,
  observe() {},
  latency: () => undefined,
};

/**
 * Peak EWMA: cost is the latency estimate times (requests in flight + 1), as in Finagle and
 * tower, so an endpoint is avoided when it is slow or when it is busy.
 *
 * Each endpoint's estimate lives in a {@link PeakEwma} on `EndpointView.balancerState`, which
 * survives set updates; a copy sits in typed arrays by position, so that a pick among 10 000
 * endpoints reads two array slots instead of two more scattered objects (fewer cache misses).
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
  /** Each endpoint's estimate. */
  #ewmas = new Map<EndpointView, PeakEwma>();
  #indexed: readonly EndpointView[] = [];
  #estimates = new Float64Array(0);
  #stamps = new Float64Array(0);

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
  prepare(endpoints: readonly EndpointView[]): void {
    const now = this.#clock();
    const previous = this.#ewmas;
    const kept = new Map<EndpointView, PeakEwma>();
    let sum = 0;
    let known = 0;
    for (const endpoint of endpoints) {
      const ewma = previous.get(endpoint);
      if (ewma === undefined || (ewma.ejected && endpoint.state === 'active')) continue;
      kept.set(endpoint, ewma);
      sum += ewma.at(now, this.#decayMs);
      known++;
    }
    const neutral = known > 0 ? sum / known : this.#defaultMs;
    for (const endpoint of endpoints) {
      let ewma = kept.get(endpoint);
      if (ewma === undefined) {
        ewma = new PeakEwma(neutral, now);
        kept.set(endpoint, ewma);
      }
      ewma.ejected = endpoint.state === 'ejected';
    }
    this.#ewmas = kept;
  }

  index(candidates: readonly EndpointView[]): void {
    const estimates = new Float64Array(candidates.length);
    const stamps = new Float64Array(candidates.length);
    candidates.forEach((endpoint, position) => {
      const ewma = this.#ewmas.get(endpoint)!;
      ewma.position = position;
      estimates[position] = ewma.estimateMs;
      stamps[position] = ewma.stamp;
    });
    this.#indexed = candidates;
    this.#estimates = estimates;
    this.#stamps = stamps;
  }

  cost(endpoint: EndpointView, position: number, now: number): number {
    const dt = now - this.#stamps[position]!;
    const estimate = this.#estimates[position]!;
    const decayed = dt > 0 ? estimate * Math.exp(-dt / this.#decayMs) : estimate;
    return (decayed * (endpoint.inflight + 1)) / endpoint.slowStartFactor;
  }

  /**
   * A failed attempt counts as at least twice the current estimate: an endpoint that fails fast
   * must not look like the fastest one and attract traffic. Event-loop stalls during the attempt
   * are not the endpoint's fault and are subtracted (see `stall-monitor.ts`).
   */
  observe(endpoint: EndpointView, latencyMs: number, ok: boolean, endedAt?: number): void {
    const ewma = this.#ewmas.get(endpoint);
    // An endpoint that left the set while this attempt was in flight.
    if (ewma === undefined) return;
    // On the default clock the balance layer's reading is now: a clock read (~50 ns) saved.
    const now = this.#injectedClock || endedAt === undefined ? this.#clock() : endedAt;
    if (this.#discountStalls) {
      // Stalls are recorded in performance.now() time, which is the default clock.
      const end = this.#injectedClock ? (endedAt ?? performance.now()) : now;
      latencyMs = Math.max(latencyMs - stalledBetween(end - latencyMs, end), 0);
    }
    const sample = ok ? latencyMs : Math.max(latencyMs, 2 * ewma.at(now, this.#decayMs));
    ewma.observe(sample, now, this.#decayMs);
    const position = ewma.position;
    if (this.#indexed[position] === endpoint) {
      this.#estimates[position] = ewma.estimateMs;
      this.#stamps[position] = ewma.stamp;
    }
  }

  latency(endpoint: EndpointView): number | undefined {
    return this.#ewmas.get(endpoint)?.at(this.#clock(), this.#decayMs);
  }
}
