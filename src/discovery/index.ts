/**
 * Discovery: resolvers that tell the mesh which endpoints a service has.
 *
 * @packageDocumentation
 */

export { type ConsulParseOptions, nextConsulIndex, parseConsulHealth } from './consul/consul-format.js';
export { type ConsulEndpointsOptions, consulEndpoints } from './consul/consul-resolver.js';
export { type DnsOptions, dnsAddresses, dnsSrv } from './dns/dns-resolver.js';
export { checkSrvRecords, type SrvRecord, selectSrvEndpoints } from './dns/srv.js';
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
export {
  DEFAULT_ETCD_PREFIX,
  type EtcdEndpointsOptions,
  etcdEndpoints,
  parseRegistration,
  servicePrefix,
} from './etcd/etcd-resolver.js';
export { EtcdWatch, type EtcdWatchHandlers, type EtcdWatchOptions } from './etcd/etcd-watch.js';
export { EtcdRegistration, type RegistrationOptions, registerEndpoint } from './etcd/registration.js';
export { parseEndpointFile } from './file/file-format.js';
export { type FileEndpointsOptions, fileEndpoints } from './file/file-resolver.js';
export { parseEndpointSlice, type SliceEndpoints } from './kubernetes/endpoint-slice.js';
export { type KubernetesEndpointsOptions, kubernetesEndpoints } from './kubernetes/kubernetes-resolver.js';
export type { Resolver, ResolverSink, ResolverSubscription } from './resolver.js';
export { staticEndpoints } from './static.js';
export {
  DEFAULT_UPDATE_POLICY,
  UpdateGuard,
  type UpdatePolicy,
  validateUpdatePolicy,
} from './update-guard.js';
