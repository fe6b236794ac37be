import type { ServiceHandle } from '../core/layer.js';
import { LatencyHistogram } from './latency-histogram.js';
import { CELLS } from './outcome-class.js';

/** The `route` label of calls that named no route. */
export const NO_ROUTE = '';
/** The `route` label of calls whose route came after the service's route limit was reached. */
export const OVERFLOW_ROUTE = 'overflow';

/** Golden-signal counts of one route of one service (or of its calls without a route). */
export class RouteStats {
  /** Calls finished, per (outcome, status class) cell (see `outcome-class.ts`). */
  readonly requests = new Float64Array(CELLS);
  /** Time to the response headers, or to the error. */
  readonly headers: LatencyHistogram;
  /** Time to the end of the response body, or to the error. */
  readonly end: LatencyHistogram;

  constructor(
    readonly route: string,
    bounds: Float64Array,
  ) {
    this.headers = new LatencyHistogram(bounds);
    this.end = new LatencyHistogram(bounds);
  }

  reset(): void {
    this.requests.fill(0);
    this.headers.reset();
    this.end.reset();
  }
}

/** Breaker states, as the `state` label of `circuit_state` says them. */
export const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;

/**
 * Everything the metrics count for one service: its routes' golden signals, errors by code,
 * calls in flight, and what the mesh reported about it through its events. Shared by every
 * mesh built with the same metrics layer, so one service name gives one set of series.
 */
export class ServiceStats {
  /** Calls started and not yet over (response body ended, or error). */
  inflight = 0;
  /** Calls that named no route. */
  readonly unrouted: RouteStats;
  /** Errors (calls with no response) by code. */
  readonly errors = new Map<string, number>();
  /** Calls whose response body failed after the headers (cut, stalled, deadline), by code. */
  readonly bodyErrors = new Map<string, number>();
  readonly retries = { sent: 0, budgetExhausted: 0 };
  readonly hedges = { sent: 0, won: 0 };
  circuit: (typeof CIRCUIT_STATES)[number] = 'closed';
  readonly ejections = new Map<string, number>();
  returns = 0;
  readonly discovery = { updates: 0, errors: 0, lastUpdateMs: 0, lastError: '' };
  /** The live services (one per mesh) whose endpoints the per-endpoint series report. */
  readonly handles = new Set<ServiceHandle>();
  readonly #routes = new Map<string, RouteStats>();
  readonly #bounds: Float64Array;
  readonly #maxRoutes: number;

  constructor(
    readonly name: string,
    bounds: Float64Array,
    maxRoutes: number,
  ) {
    this.#bounds = bounds;
    this.#maxRoutes = maxRoutes;
    this.unrouted = new RouteStats(NO_ROUTE, bounds);
  }

  /** The stats of `route` (one map lookup); past the route limit, the shared overflow route. */
  route(route: string | undefined): RouteStats {
    if (route === undefined || route === NO_ROUTE) return this.unrouted;
    let stats = this.#routes.get(route);
    if (stats === undefined) {
      const key = this.#routes.size < this.#maxRoutes ? route : OVERFLOW_ROUTE;
      stats = this.#routes.get(key) ?? new RouteStats(key, this.#bounds);
      this.#routes.set(key, stats);
    }
    return stats;
  }

  /** Every route with stats, the unrouted calls first. */
  routes(): RouteStats[] {
    return [this.unrouted, ...this.#routes.values()];
  }

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  countBodyError(code: string): void {
    this.bodyErrors.set(code, (this.bodyErrors.get(code) ?? 0) + 1);
  }

  reset(): void {
    for (const route of this.routes()) route.reset();
    this.errors.clear();
    this.bodyErrors.clear();
    this.retries.sent = this.retries.budgetExhausted = 0;
    this.hedges.sent = this.hedges.won = 0;
    this.ejections.clear();
    this.returns = 0;
    this.discovery.updates = this.discovery.errors = 0;
  }
}
