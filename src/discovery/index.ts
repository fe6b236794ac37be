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
export type { EtcdEvent, EtcdKeyValue } from './etcd/codec.js';
export {
  EtcdClient,
  type EtcdClientOptions,
  type EtcdDeleteResult,
  type EtcdGrant,
  type EtcdRange,
  type EtcdWriteResult,
} from './etcd/etcd-client.js';
export { EtcdLease, type EtcdLeaseOptions } from './etcd/etcd-lease.js';
export { EtcdWatch, type EtcdWatchHandlers, type EtcdWatchOptions } from './etcd/etcd-watch.js';
export { parseEndpointFile } from './file/file-format.js';
export { type FileEndpointsOptions, fileEndpoints } from './file/file-resolver.js';
export type { Resolver, ResolverSink, ResolverSubscription } from './resolver.js';
export { staticEndpoints } from './static.js';
export {
  DEFAULT_UPDATE_POLICY,
  UpdateGuard,
  type UpdatePolicy,
  validateUpdatePolicy,
} from './update-guard.js';
