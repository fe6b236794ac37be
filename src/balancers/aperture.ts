import type { Balancer, BalancerFactory, EndpointSnapshot } from '../core/balancer.js';
import type { EndpointView } from '../core/endpoint.js';
import { optionKeys, unknownOptions } from '../core/validate.js';
import { eligibleEndpoints } from './eligibility.js';
import { PeakEwmaMetric } from './load-metric.js';
import {
  checkBalancerOptions,
  checkPositive,
  type ResolvedBalancerOptions,
  resolveBalancerOptions,
} from './options.js';
import { checkClock, type P2CPeakEwmaOptions } from './p2c.js';
import { snapshotOf } from './snapshot.js';

/** Options of {@link aperture}. */
export interface ApertureOptions extends P2CPeakEwmaOptions {
  /** This client's index among the clients of the service, 0 to `instanceCount - 1`. */
  instanceId: number;
  /** How many client instances share the fleet (for example the replica count of the caller). */
  instanceCount: number;
  /**
   * The fewest endpoints a client talks to, for redundancy and smoothing.
   *
   * @defaultValue 12 (Finagle's)
   */
  minAperture?: number;
}

const DEFAULT_MIN_APERTURE = 12;

/**
 * Finagle's deterministic aperture. Clients and endpoints are both spread evenly over a ring
 * of circumference 1: client `i` of `n` owns the arc starting at `i/n`, widened to cover at
 * least `minAperture` endpoints. It only talks to endpoints whose arc overlaps its own, in
 * proportion to the overlap, so each client opens few connections while every endpoint still
 * gets an equal share of the total load. Inside the window, P2C peak-EWMA chooses.
 */
class ApertureBalancer implements Balancer {
  readonly name = 'aperture';
  readonly #options: ResolvedBalancerOptions;
  readonly #metric: PeakEwmaMetric;
  readonly #offset: number;
  readonly #clientWidth: number;
  readonly #minAperture: number;
  #all: readonly EndpointView[] = [];
  /** Eligible endpoints sorted by id, so that every client sees the same ring. */
  #ring: EndpointView[] = [];
  #width = 1;

  constructor(options: ApertureOptions, resolved: ResolvedBalancerOptions) {
    this.#options = resolved;
    this.#metric = new PeakEwmaMetric(
      options.decayMs ?? 10_000,
      options.initialLatencyMs ?? 30,
      options.discountStalls ?? true,
      options.clock,
    );
    this.#offset = options.instanceId / options.instanceCount;
    this.#clientWidth = 1 / options.instanceCount;
    this.#minAperture = options.minAperture ?? DEFAULT_MIN_APERTURE;
  }

  update(endpoints: readonly EndpointView[]): void {
    this.#metric.prepare(endpoints);
    this.#all = endpoints;
    const ring = eligibleEndpoints(endpoints, this.#options.panicThreshold).eligible;
    ring.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.#ring = ring;
    this.#metric.index(ring);
    this.#width = apertureWidth(this.#clientWidth, this.#minAperture, ring.length);
  }

  /** The endpoint under a uniformly random point of this client's window. */
  #draw(): number {
    const n = this.#ring.length;
    return Math.floor((this.#offset + this.#options.random() * this.#width) * n) % n;
  }

  pick(): EndpointView | undefined {
    const ring = this.#ring;
    if (ring.length < 2) return ring[0];
    const i = this.#draw();
    let j = this.#draw();
    if (j === i) j = this.#draw();
    const a = ring[i]!;
    const b = ring[j]!;
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
 * The window width: wide enough for `minAperture` endpoints, and a whole number of client
 * arcs, so that the windows of all clients cover every point of the ring equally often (the
 * same number of times) and every endpoint gets the same total load.
 */
export function apertureWidth(clientWidth: number, minAperture: number, endpoints: number): number {
  if (endpoints === 0) return 1;
  const wanted = Math.max(clientWidth, minAperture / endpoints);
  return Math.min(1, Math.ceil(wanted / clientWidth - 1e-9) * clientWidth);
}

const APERTURE_KEYS = optionKeys<ApertureOptions>({
  panicThreshold: true,
  random: true,
  decayMs: true,
  clock: true,
  initialLatencyMs: true,
  discountStalls: true,
  instanceId: true,
  instanceCount: true,
  minAperture: true,
});

/**
 * Deterministic aperture (Finagle): each of `instanceCount` clients talks to a stable window
 * of a large fleet instead of all of it, so N clients x M endpoints no longer means N x M
 * connections, while load stays even across the fleet. Give every client instance its own
 * `instanceId` (for example from its pod ordinal or an environment variable).
 *
 * @example
 * ```ts
 * s.balancer(aperture({ instanceId: Number(process.env.REPLICA), instanceCount: 40 }));
 * ```
 */
export function aperture(options: ApertureOptions): BalancerFactory {
  const name = 'aperture';
  return {
    name,
    validate: () => {
      const problems = [
        ...unknownOptions('aperture', options, APERTURE_KEYS),
        ...checkBalancerOptions(name, options),
        ...checkPositive(name, 'decayMs', options?.decayMs),
        ...checkPositive(name, 'initialLatencyMs', options?.initialLatencyMs),
        ...checkClock(name, options?.clock),
      ];
      const count = options?.instanceCount;
      const id = options?.instanceId;
      if (!(Number.isInteger(count) && count >= 1)) {
        problems.push(`${name}: instanceCount must be an integer >= 1, got ${JSON.stringify(count)}`);
      } else if (!(Number.isInteger(id) && id >= 0 && id < count)) {
        problems.push(
          `${name}: instanceId must be an integer from 0 to ${count - 1}, got ${JSON.stringify(id)}`,
        );
      }
      const min = options?.minAperture;
      if (min !== undefined && !(Number.isInteger(min) && min >= 1)) {
        problems.push(`${name}: minAperture must be an integer >= 1, got ${JSON.stringify(min)}`);
      }
      return problems;
    },
    create: () => new ApertureBalancer(options, resolveBalancerOptions(options)),
  };
}
