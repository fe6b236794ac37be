import { ErrorCode, TrellisError } from '../../core/errors.js';
import { type Endpoint, parseEndpoint } from '../endpoint.js';
import type { Resolver, ResolverSink } from '../resolver.js';
import { type UpdatePolicy, validateUpdatePolicy } from '../update-guard.js';
import type { EtcdKeyValue } from './codec.js';
import { EtcdClient, type EtcdClientOptions } from './etcd-client.js';
import type { EtcdWatchOptions } from './etcd-watch.js';

/** Where services register by default: `/trellis/services/<service>/<host:port>`. */
export const DEFAULT_ETCD_PREFIX = '/trellis/services/';

/** Options for {@link etcdEndpoints}. */
export interface EtcdEndpointsOptions {
  /** A client to share (not closed by the resolver), or options for one the resolver owns. */
  etcd: EtcdClient | EtcdClientOptions;
  /** Key prefix under which services register. Default {@link DEFAULT_ETCD_PREFIX}. */
  prefix?: string;
  /** Service name to watch; the mesh's service name by default. */
  service?: string;
  /** Reconnection backoff of the watch after a dropped stream, and its liveness check. */
  reconnect?: Pick<EtcdWatchOptions, 'minBackoffMs' | 'maxBackoffMs' | 'livenessCheckMs'>;
  /** Debounce and empty-set grace. */
  updates?: UpdatePolicy;
}

/** The key prefix of one service's registrations. */
export function servicePrefix(prefix: string, service: string): string {
  return `${prefix.endsWith('/') ? prefix : `${prefix}/`}${service}/`;
}

/**
 * Parses one registration value: JSON `{"host", "port", "weight"?, "zone"?, "metadata"?}`.
 *
 * @throws `TrellisError` `TRELLIS_INVALID_DISCOVERY_DATA` naming the key.
 */
export function parseRegistration(key: string, value: string): Endpoint {
  try {
    const data: unknown = JSON.parse(value);
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw new Error('not a JSON object');
    return parseEndpoint(data as never);
  } catch (err) {
    throw new TrellisError(
      ErrorCode.InvalidDiscoveryData,
      `etcd key ${key} does not hold a valid endpoint (${(err as Error).message}); expected JSON like ` +
        '{"host":"10.0.0.1","port":8080}. The last good set stays in use until it is fixed or deleted.',
      { cause: err, details: { key } },
    );
  }
}

/**
 * Endpoints that services registered in etcd (see {@link registerEndpoint}), watched under a key
 * prefix. The watch resumes from its last revision after a dropped stream or an etcd restart and
 * re-reads the prefix when the missed revisions were compacted, so the set is always what etcd
 * holds at some revision. A malformed registration rejects the update (the last good set stays)
 * with an error naming the key.
 *
 * @example
 * ```ts
 * s.discovery(etcdEndpoints({ etcd: { endpoints: ['http://127.0.0.1:2379'] } }))
 * ```
 */
export function etcdEndpoints(options: EtcdEndpointsOptions): Resolver {
  const prefix = options.prefix ?? DEFAULT_ETCD_PREFIX;
  return {
    description: `etcd(${prefix})`,
    updatePolicy: options.updates,
    validate() {
      const problems = validateUpdatePolicy(options.updates);
      if (!(options.etcd instanceof EtcdClient)) problems.push(...EtcdClient.validate(options.etcd));
      if (typeof prefix !== 'string' || prefix === '') problems.push('prefix must be a non-empty key prefix');
      return problems;
    },
    resolve(sink: ResolverSink, service: string) {
      const owned = options.etcd instanceof EtcdClient ? undefined : new EtcdClient(options.etcd);
      const client = owned ?? (options.etcd as EtcdClient);
      const registrations = new Map<string, string>();
      const publish = () => {
        try {
          sink.update([...registrations].map(([key, value]) => parseRegistration(key, value)));
        } catch (err) {
          sink.error(err as Error);
        }
      };
      const watch = client.watch(
        servicePrefix(prefix, options.service ?? service),
        {
          onSnapshot(kvs: EtcdKeyValue[]) {
            registrations.clear();
            for (const kv of kvs) registrations.set(kv.key, kv.value);
            publish();
          },
          onEvents(events) {
            for (const { type, kv } of events) {
              if (type === 'put') registrations.set(kv.key, kv.value);
              else registrations.delete(kv.key);
            }
            publish();
          },
          onError: (err) => sink.error(err),
        },
        { ...options.reconnect },
      );
      return {
        async close() {
          await watch.close();
          await owned?.close();
        },
      };
    },
  };
}
