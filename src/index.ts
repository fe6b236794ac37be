/**
 * trellis: an in-process service mesh for Node.js.
 *
 * @packageDocumentation
 */

export type { AdminHandler, AdminHandlerOptions } from './admin/admin-handler.js';
export type { AdminOptions, AdminServer } from './admin/admin-server.js';
export type { TapCounts, TapLimits } from './admin/tap-stream.js';
export { BALANCE_LAYER, balanceLayer } from './balancers/balance-layer.js';
export type { Balancer, BalancerFactory, EndpointSnapshot } from './core/balancer.js';
export {
  type AbortEmitter,
  type AttemptStamp,
  type RequestBody,
  RequestContext,
  type RequestContextInit,
} from './core/context.js';
export type { EndpointState, EndpointView } from './core/endpoint.js';
export {
  type DetailsInit,
  ErrorCode,
  type ErrorDetails,
  type ErrorDetailsByCode,
  findTrellisError,
  isTrellisError,
  type RequestFailureDetails,
  TrellisError,
  type TrellisErrorOptions,
} from './core/errors.js';
export type { MeshEvents } from './core/events.js';
export type { HeaderBag } from './core/headers.js';
export {
  type InterceptingLayerOptions,
  type Interception,
  type Interceptor,
  interceptingLayer,
} from './core/interceptor.js';
export {
  type EndpointHandle,
  isEndpointHandle,
  type Layer,
  type MeshResponse,
  type ResponseBody,
  type Service,
  type ServiceHandle,
} from './core/layer.js';
export { LAYER_ORDER } from './core/layer-ranks.js';
export type { RetryBudgetReadout, RulesInForce, ServiceReadings } from './core/service-readings.js';
export { Stack, type StackParts } from './core/stack.js';
export { type TestServiceHandle, testServiceHandle } from './core/test-service-handle.js';
export type { Endpoint, EndpointInput, EndpointRecord } from './discovery/endpoint.js';
export type { Resolver, ResolverSink, ResolverSubscription } from './discovery/resolver.js';
export { MeshDispatcher, type MeshDispatcherOptions } from './frontends/dispatcher.js';
export type { FetchInit, FetchInput, FetchLike, RequestLike } from './frontends/fetch.js';
export type { MeshConfiguration } from './mesh/builder.js';
export { defaultStack } from './mesh/default-stack.js';
export { Mesh, MeshBuilder, type MeshRequestOptions, type ReadyOptions } from './mesh/mesh.js';
export type { MeshOptions } from './mesh/mesh-options.js';
export { ServiceBuilder, type StackEdit } from './mesh/service-builder.js';
export { TRANSPORT_LAYER, transportLayer } from './transport/transport-layer.js';
export type { TransportOptions, TransportTls } from './transport/transport-options.js';
