/**
 * trellis: an in-process service mesh for Node.js.
 *
 * @packageDocumentation
 */

export { BALANCE_LAYER, balanceLayer } from './balancers/balance-layer.js';
export type { Balancer, BalancerFactory, EndpointSnapshot } from './balancers/balancer.js';
export {
  type AbortEmitter,
  isIdempotentMethod,
  type RequestBody,
  RequestContext,
  type RequestContextInit,
} from './context.js';
export type { Endpoint, EndpointInput, EndpointRecord } from './discovery/endpoint.js';
export type { Resolver, ResolverSink, ResolverSubscription } from './discovery/resolver.js';
export { ErrorCode, isTrellisError, TrellisError, type TrellisErrorOptions } from './errors.js';
export { MeshDispatcher } from './frontends/dispatcher.js';
export type { FetchInit, FetchInput, FetchLike, RequestLike } from './frontends/fetch.js';
export { getHeader, type HeaderBag, withHeader } from './headers.js';
export { MeshBuilder } from './mesh/builder.js';
export type { MeshEvents } from './mesh/events.js';
export { Mesh, type MeshOptions, type MeshRequestOptions } from './mesh/mesh.js';
export { ServiceBuilder, type ServiceDraft, type StackEdit } from './mesh/service-builder.js';
export { type EndpointState, MeshEndpoint } from './service/mesh-endpoint.js';
export { defaultStack } from './stack/default-stack.js';
export type { Layer, MeshResponse, ResponseBody, Service, ServiceHandle } from './stack/layer.js';
export { Stack } from './stack/stack.js';
export { TRANSPORT_LAYER, transportLayer } from './transport/transport-layer.js';
export type { TransportOptions, TransportTls } from './transport/transport-options.js';
