/**
 * Discovery: resolvers that tell the mesh which endpoints a service has.
 *
 * @packageDocumentation
 */
export {
  type Endpoint,
  type EndpointInput,
  type EndpointRecord,
  endpointId,
  parseEndpoint,
} from './endpoint.js';
export type { Resolver, ResolverSink, ResolverSubscription } from './resolver.js';
export { staticEndpoints } from './static.js';
