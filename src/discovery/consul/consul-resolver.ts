import { Agent, type Dispatcher } from 'undici';
import { ErrorCode, TrellisError } from '../../core/errors.js';
import { optionKeys, unknownOptions } from '../../core/validate.js';
import { GroupedRecords } from '../grouped-records.js';
import { reconnectBackoff } from '../reconnect-backoff.js';
import { reconnectLoop } from '../reconnect-loop.js';
import type { Resolver, ResolverSink } from '../resolver.js';
import { type UpdatePolicy, validateUpdatePolicy } from '../update-guard.js';
import { type ConsulParseOptions, nextConsulIndex, parseConsulHealth } from './consul-format.js';

/** Options for {@link consulEndpoints}. */
export interface ConsulEndpointsOptions extends ConsulParseOptions {
  /** Consul HTTP address, e.g. `'http://127.0.0.1:8500'`. */
  address: string;
  /**
   * Service name in Consul.
   *
   * @defaultValue the mesh's service name
   */
  service?: string;
  /**
   * Datacenter to ask about.
   *
   * @defaultValue the agent's own
   */
  datacenter?: string;
  /** ACL token, sent as `X-Consul-Token`. */
  token?: string;
  /**
   * How long one blocking query may wait for a change, in seconds.
   *
   * @defaultValue 60 (Consul's max is 600)
   */
  waitSeconds?: number;
  /**
   * Longest delay between retries after failures, in ms (starts at 250 and doubles).
   *
   * @defaultValue 10000
   */
  maxBackoffMs?: number;
  /** undici dispatcher to use (TLS settings, for example); not closed by the resolver. */
  dispatcher?: Dispatcher;
  /** Debounce and empty-set grace. */
  updates?: UpdatePolicy;
}

const CONSUL_KEYS = optionKeys<ConsulEndpointsOptions>({
  address: true,
  service: true,
  datacenter: true,
  token: true,
  waitSeconds: true,
  maxBackoffMs: true,
  dispatcher: true,
  updates: true,
  zoneMetaKey: true,
});

/**
 * Endpoints from Consul's health API (`/v1/health/service/:service?passing`), only instances whose
 * checks all pass, followed with blocking queries: each query carries the last `X-Consul-Index`
 * and Consul answers as soon as something changes (or after `waitSeconds`). Failures and
 * malformed answers are reported and retried with backoff; the last good set stays in use.
 * See `parseConsulHealth` (consul/consul-format.ts) for how entries become endpoints.
 *
 * @example
 * ```ts
 * s.discovery(consulEndpoints({ address: 'http://127.0.0.1:8500', token: process.env.CONSUL_TOKEN }))
 * ```
 */
export function consulEndpoints(options: ConsulEndpointsOptions): Resolver {
  return {
    description: `consul(${options.service ?? '<service>'}@${options.address})`,
    updatePolicy: options.updates,
    validate() {
      const problems = [
        ...unknownOptions('consulEndpoints', options, CONSUL_KEYS),
        ...validateUpdatePolicy(options.updates),
      ];
      if (typeof options.address !== 'string' || !/^https?:\/\/[^/]+\/?$/.test(options.address)) {
        problems.push(
          `address must be a Consul URL like 'http://127.0.0.1:8500', not ${JSON.stringify(options.address)}`,
        );
      }
      const wait = options.waitSeconds;
      if (wait !== undefined && !(Number.isInteger(wait) && wait >= 1 && wait <= 600)) {
        problems.push('waitSeconds must be an integer from 1 to 600');
      }
      return problems;
    },
    resolve(sink: ResolverSink, meshService: string) {
      const service = options.service ?? meshService;
      const origin = options.address.replace(/\/+$/, '');
      const waitSeconds = options.waitSeconds ?? 60;
      const dispatcher = options.dispatcher ?? new Agent();
      const abort = new AbortController();
      const headers: Record<string, string> = {};
      if (options.token) headers['x-consul-token'] = options.token;
      let index = 0;
      const answers = new GroupedRecords(sink);
      const backoff = reconnectBackoff(250, options.maxBackoffMs ?? 10_000);

      const query = async (): Promise<void> => {
        const params = new URLSearchParams({ passing: 'true', wait: `${waitSeconds}s` });
        if (index > 0) params.set('index', String(index));
        if (options.datacenter) params.set('dc', options.datacenter);
        const response = await dispatcher.request({
          origin,
          path: `/v1/health/service/${encodeURIComponent(service)}?${params}`,
          method: 'GET',
          headers,
          signal: abort.signal,
          // Consul adds up to wait/16 of jitter to a blocking query.
          headersTimeout: waitSeconds * 1000 * (17 / 16) + 5000,
          bodyTimeout: 30_000,
        });
        const text = await response.body.text();
        if (response.statusCode !== 200) {
          throw new TrellisError(
            ErrorCode.DiscoveryFailed,
            `Consul answered ${response.statusCode} for service '${service}': ${text.slice(0, 200)}. ` +
              'Check the address, datacenter and ACL token.',
            { details: { status: response.statusCode } },
          );
        }
        const next = nextConsulIndex(response.headers['x-consul-index'], index);
        if (next !== 0 && next === index) return; // the wait ran out with nothing new
        let data: unknown;
        try {
          data = JSON.parse(text);
        } catch {
          throw new TrellisError(
            ErrorCode.InvalidDiscoveryData,
            `Consul answered with something that is not JSON: ${text.slice(0, 100)}`,
          );
        }
        const endpoints = parseConsulHealth(data, { zoneMetaKey: options.zoneMetaKey });
        index = next;
        // Consul answers with the whole list each time; only what changed goes on to the mesh.
        answers.replaceGroup(service, endpoints);
      };

      const running = reconnectLoop(
        abort.signal,
        backoff,
        (err) => sink.error(err),
        async () => {
          await query();
          backoff.reset();
          // Without a usable X-Consul-Index the query cannot block: pace it instead of spinning.
          return index === 0 ? 1000 : 0;
        },
      );
      return {
        async close() {
          abort.abort();
          await running;
          if (!options.dispatcher) await dispatcher.close();
        },
      };
    },
  };
}
