import type { MeshEndpoint } from '../service/mesh-endpoint.js';
import type { Balancer, BalancerFactory, EndpointSnapshot } from './balancer.js';

class RoundRobinBalancer implements Balancer {
  readonly name = 'round-robin';
  #endpoints: readonly MeshEndpoint[] = [];
  #next = 0;

  update(endpoints: readonly MeshEndpoint[]): void {
    this.#endpoints = endpoints;
  }

  pick(): MeshEndpoint | undefined {
    const endpoints = this.#endpoints;
    const n = endpoints.length;
    if (n === 0) return undefined;
    // Skip endpoints that are not active; if none is, fall back to plain rotation (panic mode)
    // rather than fail while the set is non-empty.
    for (let tries = 0; tries < n; tries++) {
      const candidate = endpoints[this.#next++ % n]!;
      if (candidate.state === 'active') return candidate;
    }
    return endpoints[this.#next++ % n];
  }

  snapshot(): EndpointSnapshot[] {
    return this.#endpoints.map((ep) => ({
      id: ep.id,
      state: ep.state,
      inflight: ep.inflight,
      weight: ep.endpoint.weight,
    }));
  }
}

/** Round robin: each endpoint in turn, skipping endpoints that are not active. */
export function roundRobin(): BalancerFactory {
  return { name: 'round-robin', create: () => new RoundRobinBalancer() };
}
