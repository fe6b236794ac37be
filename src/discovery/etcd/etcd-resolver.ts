import { ErrorCode, TrellisError } from '../../core/errors.js';
import { optionKeys, unknownOptions } from '../../core/validate.js';
import { type Endpoint, type EndpointRecord, parseEndpoint } from '../endpoint.js';
import type { Resolver, ResolverSink } from '../resolver.js';
import { workSlice } from '../time-slice.js';
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
  /**
   * Key prefix under which services register.
   *
   * @defaultValue {@link DEFAULT_ETCD_PREFIX}
   */
  prefix?: string;
  /**
   * Service name to watch.
   *
   * @defaultValue the mesh's service name
   */
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

/** Largest registration value accepted, in bytes of JSON: larger ones are refused unread. */
export const MAX_REGISTRATION_BYTES = 16 * 1024;

/** Decodes one registration value into the record it describes (not yet validated as an endpoint). */
function decodeRegistration(value: string): EndpointRecord {
  if (value.length > MAX_REGISTRATION_BYTES) {
    throw new Error(`the value is ${value.length} bytes, more than the ${MAX_REGISTRATION_BYTES} allowed`);
  }
  const data: unknown = JSON.parse(value);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('not a JSON object');
  return data as EndpointRecord;
}

function invalidRegistration(key: string, err: unknown): TrellisError {
  return new TrellisError(
    ErrorCode.InvalidDiscoveryData,
    `etcd key ${key} does not hold a valid endpoint (${(err as Error).message}); expected JSON like ` +
      '{"host":"10.0.0.1","port":8080}. The key is ignored (what it held before stays) until it is fixed or deleted.',
    { cause: err, details: { key } },
  );
}

/**
 * Parses one registration value: JSON `{"host", "port", "weight"?, "zone"?, "metadata"?}`.
 *
 * @throws `TrellisError` `TRELLIS_INVALID_DISCOVERY_DATA` naming the key.
 */
export function parseRegistration(key: string, value: string): Endpoint {
  try {
    return parseEndpoint(decodeRegistration(value));
  } catch (err) {
    throw invalidRegistration(key, err);
  }
}

const ETCD_KEYS = optionKeys<EtcdEndpointsOptions>({
  etcd: true,
  prefix: true,
  service: true,
  reconnect: true,
  updates: true,
});

/**
 * Endpoints that services registered in etcd (see {@link registerEndpoint}), watched under a key
 * prefix. The watch resumes from its last revision after a dropped stream or an etcd restart and
 * re-reads the prefix (page by page) when the missed revisions were compacted, so the set is
 * always what etcd holds at some revision. Each watch event is applied on its own: a
 * registration costs the same whether the service has ten instances or a hundred thousand, and
 * each value is parsed once. A malformed registration is refused alone, with an error naming
 * the key; the rest of the set is unaffected.
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
      const problems = [
        ...unknownOptions('etcdEndpoints', options, ETCD_KEYS),
        ...validateUpdatePolicy(options.updates),
      ];
      if (!(options.etcd instanceof EtcdClient)) problems.push(...EtcdClient.validate(options.etcd));
      if (typeof prefix !== 'string' || prefix === '') problems.push('prefix must be a non-empty key prefix');
      return problems;
    },
    resolve(sink: ResolverSink, service: string) {
      const owned = options.etcd instanceof EtcdClient ? undefined : new EtcdClient(options.etcd);
      const client = owned ?? (options.etcd as EtcdClient);
      const offer = (kv: EtcdKeyValue): void => {
        let record: EndpointRecord;
        try {
          record = decodeRegistration(kv.value);
        } catch (err) {
          sink.error(invalidRegistration(kv.key, err));
          return;
        }
        sink.set(kv.key, record);
      };
      const watch = client.watch(
        servicePrefix(prefix, options.service ?? service),
        {
          // A large snapshot is offered a slice at a time, yielding between slices.
          async onSnapshot(kvs: EtcdKeyValue[]) {
            sink.beginSnapshot();
            let next = 0;
            while (next < kvs.length) {
              next = workSlice(next, kvs.length, (i) => offer(kvs[i]!));
              if (next < kvs.length) await new Promise(setImmediate);
            }
            sink.endSnapshot();
          },
          onEvents(events) {
            for (const { type, kv } of events) {
              if (type === 'put') offer(kv);
              else sink.delete(kv.key);
            }
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
