import type { Endpoint, EndpointInput } from '../../src/discovery/endpoint.js';
import { parseEndpoint } from '../../src/discovery/endpoint.js';
import type { Resolver } from '../../src/discovery/resolver.js';
import { UpdateGuard } from '../../src/discovery/update-guard.js';

// The one polling helper lives in until.ts; re-exported for the discovery suites.
export { until } from './until.js';

/**
 * Runs a resolver the way the mesh does (behind an UpdateGuard, with its update policy) and
 * records what reaches the mesh.
 */
export function runResolver(resolver: Resolver, service = 'api') {
  const applied: Endpoint[][] = [];
  const errors: Error[] = [];
  const guard = new UpdateGuard(
    {
      update(endpoints: readonly EndpointInput[]) {
        applied.push(endpoints.map(parseEndpoint));
      },
      change(changes: Map<string, Endpoint | null>) {
        const byId = new Map((applied.at(-1) ?? []).map((ep) => [ep.id, ep]));
        for (const [id, record] of changes) {
          if (record === null) byId.delete(id);
          else byId.set(id, record);
        }
        applied.push([...byId.values()]);
      },
      error(err: Error) {
        errors.push(err);
      },
    },
    service,
    resolver.updatePolicy,
  );
  const subscription = resolver.resolve(guard, service);
  return {
    applied,
    errors,
    guard,
    /** The ids of the set in force, sorted. */
    current(): string[] {
      return (applied.at(-1) ?? []).map((ep) => ep.id).sort();
    },
    async close(): Promise<void> {
      await subscription.close();
      guard.close();
    },
  };
}
