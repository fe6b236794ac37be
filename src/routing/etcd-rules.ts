import { ErrorCode, TrellisError } from '../core/errors.js';
import { optionKeys, refuseUnknownOptions } from '../core/validate.js';
import { EtcdClient, type EtcdClientOptions } from '../discovery/etcd/etcd-client.js';
import { DEFAULT_RULES_KEY } from './rules.js';
import { markRulesLoaded, RulesSource } from './rules-source.js';

/** Options for {@link etcdRules}. */
export interface EtcdRulesOptions {
  /** etcd client URLs, e.g. `['http://127.0.0.1:2379']` (or give `client`). */
  endpoints?: readonly string[];
  /** An existing client to use instead (it is not closed when the source stops). */
  client?: EtcdClient;
  /** The key whose value is the rules document; {@link DEFAULT_RULES_KEY} by default. */
  key?: string;
  /** Client options other than the endpoints (time limit, dispatcher). */
  etcd?: Omit<EtcdClientOptions, 'endpoints'>;
}

const ETCD_RULES_KEYS = optionKeys<EtcdRulesOptions>({
  endpoints: true,
  client: true,
  key: true,
  etcd: true,
});

/**
 * Routing rules from one etcd key (YAML or JSON, trellis format or SMI `TrafficSplit`s),
 * watched so that a write by `npx trellis split set ...` reaches every client within
 * milliseconds. A missing or deleted key means no rules. An invalid value is rejected (see the
 * source's `rejected` event) and the previous rules stay. The watch starts when the mesh is
 * built; `await source.loaded()` to wait for the first read.
 *
 * @example
 * ```ts
 * const rules = etcdRules({ endpoints: ['http://127.0.0.1:2379'] });
 * const mesh = Mesh.builder().rules(rules).service(...).build();
 * await rules.loaded();
 * ```
 *
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` for an unknown option (its own or the client's
 *   under `etcd`), or when neither valid endpoints nor a client are given.
 */
export function etcdRules(options: EtcdRulesOptions): RulesSource {
  refuseUnknownOptions('etcdRules', options, ETCD_RULES_KEYS);
  const key = options.key ?? DEFAULT_RULES_KEY;
  if (typeof key !== 'string' || key === '') {
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      'etcdRules() needs a non-empty key, e.g. "/trellis/routes".',
    );
  }
  if (options.client === undefined) {
    const problems = EtcdClient.validate({ ...options.etcd, endpoints: options.endpoints ?? [] });
    if (problems.length > 0) {
      throw new TrellisError(ErrorCode.InvalidConfig, `etcdRules(): ${problems.join('; ')}`, {
        details: { problems },
      });
    }
  }
  const description = `etcd key ${key}`;
  return new RulesSource(description, undefined, (source) => {
    const client = options.client ?? new EtcdClient({ ...options.etcd, endpoints: options.endpoints ?? [] });
    let lastRevision = -1;
    const publish = (value: string, revision: number): void => {
      if (revision === lastRevision) return;
      lastRevision = revision;
      source.offer(value, `${description} (revision ${revision})`, revision);
    };
    // The watch is on a prefix; keys that merely start with the rules key are not ours.
    const watch = client.watch(key, {
      onSnapshot(kvs, revision) {
        const kv = kvs.find((candidate) => candidate.key === key);
        publish(kv?.value ?? '', kv?.modRevision ?? revision);
        markRulesLoaded(source);
      },
      onEvents(events) {
        for (const event of events) {
          if (event.kv.key !== key) continue;
          publish(event.type === 'put' ? event.kv.value : '', event.kv.modRevision);
        }
      },
      onError(err) {
        source.emit('unavailable', err);
      },
    });
    return async () => {
      await watch.close();
      if (options.client === undefined) await client.close();
    };
  });
}
