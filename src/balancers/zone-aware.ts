import type { Balancer, BalancerFactory, EndpointSnapshot } from '../core/balancer.js';
import type { RequestContext } from '../core/context.js';
import type { EndpointView } from '../core/endpoint.js';
import { optionKeys, unknownOptions } from '../core/validate.js';
import { eligibleEndpoints } from './eligibility.js';
import {
  type BalancerOptions,
  checkBalancerOptions,
  checkPositive,
  resolveBalancerOptions,
} from './options.js';
import { p2cPeakEwma } from './p2c.js';
import { snapshotOf } from './snapshot.js';

/** Options of {@link zoneAware}. */
export interface ZoneAwareOptions extends Pick<BalancerOptions, 'random' | 'panicThreshold'> {
  /** The caller's zone; endpoints whose discovery `zone` equals it are local. */
  zone: string;
  /**
   * The balancer used inside each side, local and remote.
   *
   * @defaultValue {@link p2cPeakEwma}
   */
  balancer?: BalancerFactory;
  /**
   * While fewer than this share of local endpoints are active (0 to 1, default 0.7), a growing
   * part of the traffic spills to other zones: all of it when no local endpoint is active.
   */
  minLocalHealthy?: number;
  /**
   * Local endpoints count as overloaded, and new requests spill to other zones, while the local
   * requests in flight exceed this many per active local endpoint (default 50).
   */
  maxLocalInflightPerEndpoint?: number;
}

class ZoneAwareBalancer implements Balancer {
  readonly name: string;
  readonly #zone: string;
  readonly #local: Balancer;
  readonly #remote: Balancer;
  readonly #random: () => number;
  readonly #panicThreshold: number;
  #all: readonly EndpointView[] = [];
  readonly #minHealthy: number;
  readonly #maxInflight: number;
  #localCount = 0;
  #remoteCount = 0;
  #localCapacity = 0;
  /** Share of requests sent to other zones because the local one is unhealthy. */
  #spill = 0;
  /** Requests picked locally and not yet observed. */
  #localInflight = 0;

  constructor(options: ZoneAwareOptions, inner: BalancerFactory, service: string) {
    this.name = `zone-aware(${inner.name})`;
    this.#zone = options.zone;
    this.#local = inner.create(service);
    this.#remote = inner.create(service);
    const resolved = resolveBalancerOptions(options);
    this.#random = resolved.random;
    this.#panicThreshold = resolved.panicThreshold;
    this.#minHealthy = options.minLocalHealthy ?? 0.7;
    this.#maxInflight = options.maxLocalInflightPerEndpoint ?? 50;
  }

  /**
   * The panic rule is applied to the whole set first, so the inner balancers only ever see
   * eligible endpoints: a zone with many ejected endpoints spills over instead of panicking.
   */
  update(endpoints: readonly EndpointView[]): void {
    this.#all = endpoints;
    const { eligible } = eligibleEndpoints(endpoints, this.#panicThreshold);
    const local: EndpointView[] = [];
    const remote: EndpointView[] = [];
    for (const ep of eligible) (ep.endpoint.zone === this.#zone ? local : remote).push(ep);
    let localTotal = 0;
    let localActive = 0;
    for (const ep of endpoints) {
      if (ep.endpoint.zone !== this.#zone) continue;
      localTotal++;
      if (ep.state === 'active') localActive++;
    }
    this.#local.update(local);
    this.#remote.update(remote);
    this.#localCount = local.length;
    this.#remoteCount = remote.length;
    this.#localCapacity = localActive * this.#maxInflight;
    const healthy = localTotal === 0 ? 0 : localActive / localTotal;
    this.#spill = healthy >= this.#minHealthy ? 0 : 1 - healthy / this.#minHealthy;
  }

  pick(ctx: RequestContext): EndpointView | undefined {
    const goRemote =
      this.#remoteCount > 0 &&
      (this.#localCount === 0 ||
        this.#localInflight >= this.#localCapacity ||
        (this.#spill > 0 && this.#random() < this.#spill));
    const chosen = goRemote
      ? (this.#remote.pick(ctx) ?? this.#local.pick(ctx))
      : (this.#local.pick(ctx) ?? this.#remote.pick(ctx));
    if (chosen !== undefined && chosen.endpoint.zone === this.#zone) this.#localInflight++;
    return chosen;
  }

  observe(endpoint: EndpointView, latencyMs: number, ok: boolean): void {
    if (endpoint.endpoint.zone === this.#zone) {
      if (this.#localInflight > 0) this.#localInflight--;
      this.#local.observe?.(endpoint, latencyMs, ok);
    } else {
      this.#remote.observe?.(endpoint, latencyMs, ok);
    }
  }

  snapshot(): EndpointSnapshot[] {
    const known = new Map<string, EndpointSnapshot>();
    for (const entry of [...this.#local.snapshot(), ...this.#remote.snapshot()]) known.set(entry.id, entry);
    return this.#all.map((ep) => known.get(ep.id) ?? snapshotOf(ep));
  }
}
const ZONE_AWARE_KEYS = optionKeys<ZoneAwareOptions>({
  panicThreshold: true,
  random: true,
  zone: true,
  balancer: true,
  minLocalHealthy: true,
  maxLocalInflightPerEndpoint: true,
});

/**
 * Zone awareness: keeps traffic in the caller's zone (cheaper, faster) and spills over to
 * other zones when local endpoints are ejected or overloaded. Wraps another balancer, which
 * chooses within each side.
 *
 * @example
 * ```ts
 * s.balancer(zoneAware({ zone: process.env.ZONE ?? 'eu-west-1a', balancer: p2cPeakEwma() }));
 * ```
 */
export function zoneAware(options: ZoneAwareOptions): BalancerFactory {
  const inner = options?.balancer ?? p2cPeakEwma();
  const name = `zone-aware(${inner.name})`;
  return {
    name,
    validate: () => {
      const problems = [
        ...unknownOptions('zoneAware', options, ZONE_AWARE_KEYS),
        ...checkBalancerOptions(name, { random: options?.random, panicThreshold: options?.panicThreshold }),
        ...(inner.validate?.() ?? []),
        ...checkPositive(name, 'maxLocalInflightPerEndpoint', options?.maxLocalInflightPerEndpoint),
      ];
      if (typeof options?.zone !== 'string' || options.zone.length === 0) {
        problems.push(`${name}: zone must name the caller's zone, e.g. 'eu-west-1a'`);
      }
      const min = options?.minLocalHealthy;
      if (min !== undefined && !(min >= 0 && min <= 1)) {
        problems.push(`${name}: minLocalHealthy must be a number from 0 to 1, got ${JSON.stringify(min)}`);
      }
      return problems;
    },
    create: (service) => new ZoneAwareBalancer(options, inner, service),
  };
}
