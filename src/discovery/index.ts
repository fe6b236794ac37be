/**
 * Discovery: resolvers that tell the mesh which endpoints a service has.
 *
 * Resolvers: {@link staticEndpoints}, {@link fileEndpoints} (a watched JSON file),
 * {@link dnsSrv} and {@link dnsAddresses} (DNS SRV and A/AAAA, re-resolved on the TTL),
 * {@link etcdEndpoints} with {@link registerEndpoint} (etcd v3, watched, leases),
 * {@link consulEndpoints} (Consul health API, blocking queries) and {@link kubernetesEndpoints}
 * (EndpointSlices, watched). {@link EtcdClient} is a small etcd v3 client over etcd's JSON gateway.
 *
 * Every resolver gets the same treatment from the mesh (its updates pass one guard, tuned by the
 * builder's {@link UpdatePolicy}):
 * - a whole-set update (file, DNS) is validated as a whole: a malformed one is reported as a
 *   `discoveryError` event and the last good set stays in use; a keyed change (etcd, Kubernetes
 *   slices, Consul) is validated alone, and a malformed entry is refused while its key keeps
 *   what it held; a resolver that fails (server down, NXDOMAIN, watch dropped) reports the
 *   error, keeps the last good set and retries;
 * - keyed changes cost the same whatever the size of the set: only the endpoints that changed
 *   are validated and applied, and a key flapping between two applies is applied once;
 * - every field is bounded (endpoints per service, metadata labels and their length), with a
 *   clear refusal that keeps what was in force;
 * - updates are debounced (the first applies at once) and updates that change nothing are dropped;
 * - a large update (thousands of endpoints) is applied in slices of about a millisecond, so
 *   requests keep flowing while it is worked out, and the balancer switches to the new set at once;
 * - an update that would empty a non-empty set is held back for a grace period (30 s by default),
 *   with a `NoEndpoints` `discoveryError` saying so, in case the empty answer is a discovery fault;
 * - endpoints that leave discovery are drained (requests in flight finish), not cut; an endpoint
 *   that discovery still lists but that refuses connections stays in the set, and taking it out of
 *   rotation is left to health checking (outlier ejection), which sees what the mesh observes.
 *
 * Weight, zone and metadata from discovery reach the balancers through each endpoint's record.
 *
 * @packageDocumentation
 */

export type { ConsulParseOptions } from './consul/consul-format.js';
export { type ConsulEndpointsOptions, consulEndpoints } from './consul/consul-resolver.js';
export { type DnsOptions, dnsAddresses, dnsSrv } from './dns/dns-resolver.js';
export type { Endpoint, EndpointInput, EndpointRecord } from './endpoint.js';
export type { EtcdEvent, EtcdKeyValue } from './etcd/codec.js';
export {
  type EtcdAuth,
  EtcdClient,
  type EtcdClientOptions,
  type EtcdDeleteResult,
  type EtcdGrant,
  type EtcdRange,
  type EtcdRangePage,
  type EtcdWriteResult,
} from './etcd/etcd-client.js';
export { EtcdLease, type EtcdLeaseOptions } from './etcd/etcd-lease.js';
export { DEFAULT_ETCD_PREFIX, type EtcdEndpointsOptions, etcdEndpoints } from './etcd/etcd-resolver.js';
export { EtcdWatch, type EtcdWatchHandlers, type EtcdWatchOptions } from './etcd/etcd-watch.js';
export { EtcdRegistration, type RegistrationOptions, registerEndpoint } from './etcd/registration.js';
export { type FileEndpointsOptions, fileEndpoints } from './file/file-resolver.js';
export { type KubernetesEndpointsOptions, kubernetesEndpoints } from './kubernetes/kubernetes-resolver.js';
export type { Resolver, ResolverSink, ResolverSubscription } from './resolver.js';
export { staticEndpoints } from './static.js';
export type { UpdatePolicy } from './update-guard.js';
