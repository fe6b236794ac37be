import type { EndpointInput } from './endpoint.js';
import type { UpdatePolicy } from './update-guard.js';

/**
 * Where a resolver sends what it learns. The mesh validates every update as a whole: an update
 * containing malformed entries is rejected and the last good set stays in force.
 */
export interface ResolverSink {
  /** Publish the complete current endpoint set (not a delta). */
  update(endpoints: readonly EndpointInput[]): void;
  /** Report a failed resolution. The last good set stays in force. */
  error(err: Error): void;
}

/** A running resolution, returned by {@link Resolver.resolve}. */
export interface ResolverSubscription {
  /** Stop resolving: release watches, timers and sockets. */
  close(): void | Promise<void>;
}

/**
 * A discovery source for one service. It is a description, not a running thing: the mesh calls
 * `resolve` once per service when it is built, so the same resolver value can serve many meshes.
 */
export interface Resolver {
  /** Short human-readable description, used in errors and tooling (e.g. `static(2)`). */
  readonly description: string;
  /**
   * Problems with the resolver's own configuration, reported by the builder at `build()` time.
   * Empty or absent when the configuration is valid.
   */
  validate?(): string[];
  /**
   * How the mesh applies this resolver's updates (debounce, empty-set grace); defaults when
   * absent. The mesh validates, debounces and guards every resolver's updates the same way.
   */
  readonly updatePolicy?: UpdatePolicy;
  /** Start publishing endpoint sets for a service into `sink`. */
  resolve(sink: ResolverSink, service: string): ResolverSubscription;
}
