import type { EndpointInput } from '../discovery/endpoint.js';
import type { Resolver } from '../discovery/resolver.js';

/**
 * A resolver that publishes only the endpoints of `resolver` whose discovery metadata carries
 * every given label. Declare the subset as a service of its own and name it as a routing
 * backend: the subset then gets its own balancer and stack. Endpoints given as plain
 * `'host:port'` strings have no labels and are left out.
 *
 * @example
 * ```ts
 * // 'users-v2' = the endpoints of 'users' labelled version=v2
 * b.service('users-v2', (s) => s.discovery(subsetOf(usersResolver, { version: 'v2' }, 'users')))
 * ```
 *
 * @param resolver - the resolver of the whole service
 * @param labels - metadata every endpoint of the subset has
 * @param of - the service whose endpoints `resolver` looks up; the subset service's own name by default
 */
export function subsetOf(
  resolver: Resolver,
  labels: Readonly<Record<string, string>>,
  of?: string,
): Resolver {
  const wanted = Object.entries(labels);
  const keep = (input: EndpointInput): boolean => {
    if (typeof input === 'string') return false;
    // A malformed record is passed on, so the mesh rejects the update and reports it.
    if (typeof input !== 'object' || input === null) return true;
    const metadata = input.metadata;
    if (typeof metadata !== 'object' || metadata === null) return false;
    return wanted.every(([key, value]) => metadata[key] === value);
  };
  return {
    updatePolicy: resolver.updatePolicy,
    description: `${resolver.description} where ${wanted.map(([k, v]) => `${k}=${v}`).join(', ')}`,
    validate: () => {
      const problems = resolver.validate?.() ?? [];
      if (wanted.length === 0) problems.push('subsetOf() needs at least one label, e.g. { version: "v2" }');
      return problems;
    },
    resolve(sink, service) {
      return resolver.resolve(
        {
          update: (inputs) => sink.update(Array.isArray(inputs) ? inputs.filter(keep) : inputs),
          // A key whose endpoint no longer matches is withdrawn, as if it had been deleted.
          set: (key, input) => (keep(input) ? sink.set(key, input) : sink.delete(key)),
          delete: (key) => sink.delete(key),
          beginSnapshot: () => sink.beginSnapshot(),
          endSnapshot: () => sink.endSnapshot(),
          error: (err) => sink.error(err),
        },
        of ?? service,
      );
    },
  };
}
