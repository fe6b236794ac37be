import type { UpdatePolicy } from '../../src/discovery/index.js';
import type { EndpointInput, Resolver, ResolverSink } from '../../src/index.js';

/** A resolver the test drives by hand: publish sets and errors whenever it likes. */
export interface ManualResolver extends Resolver {
  publish(endpoints: readonly EndpointInput[]): void;
  fail(err: Error): void;
  /** How many times the mesh closed the subscription. */
  readonly closed: number;
}

/** A real {@link Resolver} whose updates come from the test instead of a discovery system. */
export function manualResolver(
  initial: readonly EndpointInput[] = [],
  updatePolicy?: UpdatePolicy,
): ManualResolver {
  let sink: ResolverSink | undefined;
  let closed = 0;
  return {
    description: 'manual',
    ...(updatePolicy && { updatePolicy }),
    resolve(s) {
      sink = s;
      if (initial.length > 0) s.update(initial);
      return {
        close() {
          closed++;
        },
      };
    },
    publish: (endpoints) => sink!.update(endpoints),
    fail: (err) => sink!.error(err),
    get closed() {
      return closed;
    },
  };
}
