import { type EndpointInput, parseEndpoint } from './endpoint.js';
import type { Resolver, ResolverSink, ResolverSubscription } from './resolver.js';

const NOTHING_TO_STOP: ResolverSubscription = { close() {} };

/**
 * A fixed list of endpoints, published once.
 *
 * @example
 * ```ts
 * staticEndpoints(['127.0.0.1:3001', '[::1]:3002', { host: '10.0.0.7', port: 80, weight: 2 }])
 * ```
 */
export function staticEndpoints(endpoints: readonly EndpointInput[]): Resolver {
  const list = [...endpoints];
  return {
    description: `static(${list.length})`,
    validate() {
      if (!Array.isArray(endpoints)) return ['staticEndpoints() takes an array of endpoints'];
      if (list.length === 0) return ['staticEndpoints() was given no endpoints: list at least one'];
      const problems: string[] = [];
      for (const entry of list) {
        try {
          parseEndpoint(entry);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      return problems;
    },
    resolve(sink: ResolverSink) {
      sink.update(list);
      return NOTHING_TO_STOP;
    },
  };
}
