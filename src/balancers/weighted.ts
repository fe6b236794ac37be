import type { Balancer, BalancerFactory, EndpointSnapshot } from '../core/balancer.js';
import type { EndpointView } from '../core/endpoint.js';
import { unknownOptions } from '../core/validate.js';
import { AliasTable } from './alias-table.js';
import { eligibleEndpoints } from './eligibility.js';
import {
  BALANCER_KEYS,
  type BalancerOptions,
  checkBalancerOptions,
  type ResolvedBalancerOptions,
  resolveBalancerOptions,
} from './options.js';
import { snapshotOf } from './snapshot.js';

class WeightedBalancer implements Balancer {
  readonly name = 'weighted';
  readonly #options: ResolvedBalancerOptions;
  #all: readonly EndpointView[] = [];
  #eligible: EndpointView[] = [];
  #table: AliasTable | undefined;

  constructor(options: ResolvedBalancerOptions) {
    this.#options = options;
  }

  update(endpoints: readonly EndpointView[]): void {
    this.#all = endpoints;
    const eligible = eligibleEndpoints(endpoints, this.#options.panicThreshold).eligible;
    const weights = eligible.map((ep) => ep.endpoint.weight * ep.slowStartFactor);
    const positive = weights.some((w) => w > 0);
    // When every weight is 0 there is no preference to honour: choose uniformly.
    this.#table = positive ? new AliasTable(weights) : undefined;
    this.#eligible = eligible;
  }

  pick(): EndpointView | undefined {
    const u = this.#options.random();
    const table = this.#table;
    return this.#eligible[table ? table.draw(u) : Math.floor(u * this.#eligible.length)];
  }

  snapshot(): EndpointSnapshot[] {
    return this.#all.map((ep) => snapshotOf(ep));
  }
}

/**
 * Weighted random: each active endpoint gets traffic in proportion to its discovery weight
 * (DNS SRV weight, etcd metadata, `{ host, port, weight }`), times its slow-start factor while
 * warming up. Endpoints of weight 0 get nothing unless every weight is 0. O(1) per pick
 * (alias method).
 */
export function weighted(options: BalancerOptions = {}): BalancerFactory {
  return {
    name: 'weighted',
    validate: () => [
      ...unknownOptions('weighted', options, BALANCER_KEYS),
      ...checkBalancerOptions('weighted', options),
    ],
    create: () => new WeightedBalancer(resolveBalancerOptions(options)),
  };
}
