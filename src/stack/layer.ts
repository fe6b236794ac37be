import type { EventEmitter } from 'eventemitter3';
import type { Dispatcher } from 'undici';
import type { Balancer } from '../balancers/balancer.js';
import type { RequestContext } from '../context.js';
import type { MeshEvents } from '../mesh/events.js';
import type { MeshEndpoint } from '../service/mesh-endpoint.js';

/** What a service answers: undici's response (status, headers, streaming body). */
export type MeshResponse = Dispatcher.ResponseData;

/**
 * A service is a function from a request context to a response (Finagle's `Service`, tower's
 * `Service`). Layers wrap services; the bottom one talks to the network.
 */
export type Service = (ctx: RequestContext) => Promise<MeshResponse>;

/** What a layer may see of the service it is built for. */
export interface ServiceHandle {
  /** Logical service name. */
  readonly name: string;
  /** The service's balancer. */
  readonly balancer: Balancer;
  /** The mesh's event emitter, for layers that report what they do. */
  readonly events: EventEmitter<MeshEvents>;
  /** The endpoints currently known (active, ejected and draining). */
  endpoints(): readonly MeshEndpoint[];
  /** Registers cleanup (timers, breakers) to run when the service is closed. */
  onClose(cleanup: () => void | Promise<void>): void;
  /**
   * Another service of the same mesh, by logical name or claimed host: a function that sends a
   * request through that service's whole stack, or `undefined` when the mesh has no such
   * service. For layers that dispatch across services (routing); safe to call from `wrap`.
   * Optional so that handles made outside a mesh (in tests) need not provide it.
   */
  lookup?(name: string): Service | undefined;
}

/**
 * One named concern in the request path (Finagle's `Stack.Module`, tower's `Layer`). `wrap` runs
 * once per service when the mesh is built, so per-service state is set up there and the
 * returned service does only per-request work.
 */
export interface Layer {
  /** Unique name within a stack; used to insert, replace or remove the layer. */
  readonly name: string;
  /** Builds this layer's service on top of `next`. */
  wrap(next: Service, service: ServiceHandle): Service;
}
