import type { IncomingHttpHeaders } from 'node:http';
import type { EventEmitter } from 'eventemitter3';
import type { Balancer } from './balancer.js';
import type { RequestContext } from './context.js';
import type { EndpointView } from './endpoint.js';
import type { MeshEvents } from './events.js';
import type { Interception, Interceptor, interceptingLayer } from './interceptor.js';
import type { ServiceReadings } from './service-readings.js';

/**
 * What layers may do with a response body, whatever front-end sent the request: see it end
 * (`destroyed`, the `close` event) or throw it away (`dump`, `destroy`). On `mesh.request()` it is
 * undici's readable stream; on the dispatcher front-end (`mesh.fetch()`, `setGlobalDispatcher`)
 * it is relayed straight to the caller's handler, so a layer that must read or rewrite bodies
 * belongs on `mesh.request()`.
 */
export interface ResponseBody {
  /** True once the body is over: read to the end, failed or destroyed. */
  readonly destroyed: boolean;
  /**
   * The error the body failed with, as Node's `readable.errored`: a `TrellisError` when the
   * endpoint cut it short or stalled it or the deadline passed; null while it has not failed,
   * or when it was read to its end or destroyed without an error.
   */
  readonly errored?: Error | null;
  /** Aborts the response. */
  destroy(error?: Error): unknown;
  /** Discards the body (reading up to `limit` bytes so the connection can be reused). */
  dump(options?: { limit?: number }): Promise<void>;
  /** Runs `listener` once the body is over. */
  once(event: 'close', listener: () => void): unknown;
}

/** What a service answers: status, headers and a body that may still be streaming. */
export interface MeshResponse {
  /** HTTP status code. */
  readonly statusCode: number;
  /** HTTP reason phrase, when the upstream sent one. */
  readonly statusText?: string;
  /** Response headers, names lower-cased. */
  readonly headers: IncomingHttpHeaders;
  /** Trailers, filled in when the body ends. */
  readonly trailers: Record<string, string>;
  /** The body (see {@link ResponseBody}). */
  readonly body: ResponseBody;
}

/**
 * A service is a function from a request context to a response (Finagle's `Service`, tower's
 * `Service`). Layers wrap services; the bottom one talks to the network.
 */
export type Service = (ctx: RequestContext) => Promise<MeshResponse>;

/**
 * What a layer may see of the service it is built for. A layer's tests build one with
 * {@link testServiceHandle}.
 */
export interface ServiceHandle {
  /** Logical service name. */
  readonly name: string;
  /** The service's balancer. */
  readonly balancer: Balancer;
  /** The mesh's event emitter, for layers that report what they do. */
  readonly events: EventEmitter<MeshEvents>;
  /**
   * True once the service is closing (the mesh's `close()` was called): layers that find no
   * endpoint then report `TRELLIS_MESH_CLOSED`, not a discovery problem.
   */
  readonly closed: boolean;
  /** The endpoints currently known (active, ejected and draining). */
  endpoints(): readonly EndpointView[];
  /**
   * Registers a hook run for each endpoint discovery adds, while a large update is still being
   * worked out in slices and before the balancer sees the endpoint: the place for a layer to set
   * up the per-endpoint state it keeps, so that no single step does it for thousands at once.
   */
  onEndpointAdded(hook: (endpoint: EndpointView) => void): void;
  /**
   * Registers a listener run each time an endpoint of the service cuts the body of an answer
   * below 500 short or stalls it (see `EndpointView.bodyEnded`): for service-wide layers that
   * judged the call by its headers.
   */
  onBodyFailure(listener: () => void): void;
  /**
   * While discovery has not yet published the service's first endpoints, a wait for them within
   * the request's deadline (it rejects when the deadline passes or the caller aborts first);
   * `undefined` once the service has had endpoints. The balance layer calls it when it finds no
   * endpoint.
   */
  waitForFirstEndpoints(ctx: RequestContext): Promise<void> | undefined;
  /**
   * Where layers publish their state for the admin endpoint and the metrics (see
   * {@link ServiceReadings}).
   */
  readonly readings: ServiceReadings;
  /** Registers cleanup (timers, breakers) to run when the service is closed. */
  onClose(cleanup: () => void | Promise<void>): void;
  /**
   * Another service of the same mesh, by logical name or claimed host: a function that sends a
   * request through that service's whole stack, or `undefined` when the mesh has no such
   * service. For layers that dispatch across services (routing); safe to call from `wrap`.
   */
  lookup(name: string): Service | undefined;
}

/**
 * What a layer below the `balance` layer sees: such a layer is part of the **endpoint stack**,
 * built once for each endpoint of the service (Finagle's endpoint stack, linkerd2-proxy's
 * endpoint stack), so its `wrap` runs when discovery adds the endpoint and the state it keeps in
 * that closure belongs to that endpoint alone. It is the service's handle plus the endpoint.
 */
export interface EndpointHandle extends ServiceHandle {
  /** The endpoint this copy of the layer serves. */
  readonly endpoint: EndpointView;
  /** The service-wide handle, the same object for every endpoint: key shared state on it. */
  readonly service: ServiceHandle;
  /**
   * Takes the endpoint out of rotation (`ejected`) or puts it back (`active`), with its share of
   * traffic while it warms up (slow start, in (0, 1]). The service's balancer reads the new
   * status before its next pick; the layer never talks to the balancer.
   */
  setStatus(state: 'active' | 'ejected', slowStartFactor?: number): void;
  /** Registers cleanup to run when the endpoint leaves the service (it drained, or the mesh closed). */
  onRemoved(cleanup: () => void): void;
  /**
   * Listens to how each answer's body from this endpoint ends (see `EndpointView.bodyEnded`).
   * Returns true when the transport below reports body ends (the mesh's own does), and false,
   * without registering, when it does not: the layer must then judge the attempt by its headers.
   */
  onBodyEnd(listener: (failed: boolean) => void): boolean;
  /** Declared by a transport layer that calls `EndpointView.bodyEnded` for every answer below 500. */
  reportsBodyEnds(): void;
}

/** True when a layer is being built for one endpoint (it sits below `balance`). */
export function isEndpointHandle(handle: ServiceHandle): handle is EndpointHandle {
  return (handle as Partial<EndpointHandle>).endpoint !== undefined;
}

/**
 * One named concern in the request path (Finagle's `Stack.Module`, tower's `Layer`). `wrap` runs
 * once per service when the mesh is built, so per-service state is set up there and the
 * returned service does only per-request work. A layer placed below `balance` is built once
 * per endpoint instead, and gets an {@link EndpointHandle}.
 */
export interface Layer {
  /** Unique name within a stack; used to insert, replace or remove the layer. */
  readonly name: string;
  /**
   * The concern the layer plays (`balance`, `health`, `rate-limit`...); its name when unset.
   * The `balance` role splits a stack: the layers below it form the endpoint stack.
   */
  readonly role?: string;
  /**
   * Problems with the layer's options, each a sentence saying what to write instead; `build()`
   * lists them with the rest of the configuration's problems (as it does a balancer's and a
   * resolver's). Factories check their options when called but report here rather than throw,
   * so one bad call does not hide the others.
   */
  validate?(): readonly string[];
  /** Builds this layer's service on top of `next`. */
  wrap(next: Service, service: ServiceHandle): Service;
  /**
   * The layer's intercept form, for a layer whose work on a call is synchronous before the
   * layers below run and after they have an outcome (it counts, times, stamps, or judges the
   * outcome). A stack builds adjacent intercepting layers into one step: each is entered in
   * turn, the layers below are called once, and their outcome is handed back up through each
   * layer's {@link Interception} in one continuation, where `wrap` would cost each layer a
   * promise and a microtask. `next` is the rest of the stack below this layer, for the calls the
   * layer makes itself (a retry, a probe). `undefined` when the layer has nothing to do for this
   * service (it is switched off): it then adds nothing to the stack. Layers with one also have a
   * `wrap` that gives the same behaviour on its own; {@link interceptingLayer} makes it.
   */
  intercept?(next: Service, service: ServiceHandle): Interceptor | undefined;
}
