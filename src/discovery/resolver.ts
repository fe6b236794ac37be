import type { EndpointInput } from './endpoint.js';
import type { UpdatePolicy } from './update-guard.js';

/**
 * Where a resolver sends what it learns, in one of two styles:
 * - whole sets: `update(endpoints)` with the complete current set, validated as a whole (an
 *   update containing a malformed entry is rejected and the last good set stays in force). Right
 *   for sources that answer with the whole set anyway (a file, DNS).
 * - keyed changes: `set(key, endpoint)` and `delete(key)` for sources that report changes (an
 *   etcd watch, Kubernetes slices), each costing the same whatever the size of the set; a
 *   malformed entry is refused alone and its key keeps its previous endpoint. `beginSnapshot()`
 *   and `endSnapshot()` bracket a complete re-read: the keys set in between replace all others.
 *
 * A resolver uses one style; switching from whole sets to keys replaces the set with the keys.
 */
export interface ResolverSink {
  /** Publish the complete current endpoint set (not a delta). */
  update(endpoints: readonly EndpointInput[]): void;
  /** Publish (or replace) the endpoint a source key describes, e.g. an etcd key. */
  set(key: string, endpoint: EndpointInput): void;
  /** Withdraw the endpoint a source key described (nothing happens for an unknown key). */
  delete(key: string): void;
  /** Start a complete re-read: keys set from now until {@link ResolverSink.endSnapshot} replace all keys. */
  beginSnapshot(): void;
  /** End a re-read: the keys set since {@link ResolverSink.beginSnapshot} become the whole set. */
  endSnapshot(): void;
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
