import type { Balancer, BalancerFactory, EndpointSnapshot } from '../core/balancer.js';
import type { EndpointView } from '../core/endpoint.js';
import { unknownOptions } from '../core/validate.js';
import { eligibleEndpoints } from './eligibility.js';
import {
  BALANCER_KEYS,
  type BalancerOptions,
  checkBalancerOptions,
  type ResolvedBalancerOptions,
  resolveBalancerOptions,
} from './options.js';
import { snapshotOf } from './snapshot.js';

class RandomBalancer implements Balancer {
  readonly name = 'random';
  readonly #options: ResolvedBalancerOptions;
  #all: readonly EndpointView[] = [];
  #eligible: EndpointView[] = [];

  constructor(options: ResolvedBalancerOptions) {
    this.#options = options;
  }

  update(endpoints: readonly EndpointView[]): void {
    this.#all = endpoints;
    this.#eligible = eligibleEndpoints(endpoints, this.#options.panicThreshold).eligible;
  }

  pick(): EndpointView | undefined {
    const eligible = this.#eligible;
    return eligible[Math.floor(this.#options.random() * eligible.length)];
  }

  snapshot(): EndpointSnapshot[] {
    return this.#all.map((ep) => snapshotOf(ep));
  }
}

/** Uniform random choice among active endpoints. Ignores latency, load and slow start. */
export function random(options: BalancerOptions = {}): BalancerFactory {
  return {
    name: 'random',
    validate: () => [
      ...unknownOptions('random', options, BALANCER_KEYS),
      ...checkBalancerOptions('random', options),
    ],
    create: () => new RandomBalancer(resolveBalancerOptions(options)),
  };
}
