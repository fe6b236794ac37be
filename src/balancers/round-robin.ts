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

class RoundRobinBalancer implements Balancer {
  readonly name = 'round-robin';
  readonly #options: ResolvedBalancerOptions;
  #all: readonly EndpointView[] = [];
  #eligible: EndpointView[] = [];
  #next = 0;

  constructor(options: ResolvedBalancerOptions) {
    this.#options = options;
  }

  update(endpoints: readonly EndpointView[]): void {
    this.#all = endpoints;
    this.#eligible = eligibleEndpoints(endpoints, this.#options.panicThreshold).eligible;
  }

  pick(): EndpointView | undefined {
    const eligible = this.#eligible;
    if (eligible.length === 0) return undefined;
    if (this.#next >= eligible.length) this.#next = 0;
    return eligible[this.#next++];
  }

  snapshot(): EndpointSnapshot[] {
    return this.#all.map((ep) => snapshotOf(ep));
  }
}

/**
 * Round robin: each active endpoint in turn (every endpoint when panicking, see
 * {@link BalancerOptions.panicThreshold}). Ignores latency, load and slow start: use it as a
 * baseline, or when every endpoint is known to be alike.
 */
export function roundRobin(options: BalancerOptions = {}): BalancerFactory {
  return {
    name: 'round-robin',
    validate: () => [
      ...unknownOptions('roundRobin', options, BALANCER_KEYS),
      ...checkBalancerOptions('round-robin', options),
    ],
    create: () => new RoundRobinBalancer(resolveBalancerOptions(options)),
  };
}
