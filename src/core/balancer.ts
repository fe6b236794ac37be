import type { RequestContext } from './context.js';
import type { EndpointState, EndpointView } from './endpoint.js';

/** What a balancer reports about one endpoint (for the demo, tooling and metrics). */
export interface EndpointSnapshot {
  /** `host:port`. */
  id: string;
  /** Health and lifecycle state. */
  state: EndpointState;
  /** Requests in flight. */
  inflight: number;
  /** Discovery weight. */
  weight: number;
  /** The balancer's latency estimate in ms, for balancers that keep one. */
  latencyMs?: number;
  /** Share of full traffic while warming up after joining or returning (1 = full); see the health layer. */
  slowStartFactor?: number;
  /** Locality zone from discovery. */
  zone?: string | undefined;
}

/**
 * Chooses an endpoint for each request. One instance serves one service; the mesh calls
 * `update` whenever discovery changes the endpoint set or an endpoint's status changes (once per
 * turn), and `pick` on every request. Avoiding the endpoint a retry names (`ctx.avoid`) is the
 * balance layer's job, not the balancer's.
 */
export interface Balancer {
  /** Algorithm name, e.g. `round-robin`. */
  readonly name: string;
  /** Replaces the endpoint set. Called off the request path; may precompute. */
  update(endpoints: readonly EndpointView[]): void;
  /**
   * Chooses an endpoint, preferring `active` ones, or returns `undefined` when the set is
   * empty. Must be O(1) or close to it: it runs on every request.
   */
  pick(ctx: RequestContext): EndpointView | undefined;
  /**
   * Learns from a finished attempt: latency to the response headers, and whether it succeeded.
   * `endedAt` is when it ended on `performance.now()`'s clock, as the balance layer read it (a
   * balancer on that clock need not read it again; one with a clock of its own ignores it).
   */
  observe?(endpoint: EndpointView, latencyMs: number, ok: boolean, endedAt?: number): void;
  /** Per-endpoint view of the balancer's state. */
  snapshot(): EndpointSnapshot[];
}

/** Creates a fresh {@link Balancer} for each service that uses it. */
export interface BalancerFactory {
  /** Algorithm name, e.g. `round-robin`. */
  readonly name: string;
  /** Problems with the factory's own options, reported at `build()`. */
  validate?(): string[];
  /** A new balancer for the named service. */
  create(service: string): Balancer;
}
