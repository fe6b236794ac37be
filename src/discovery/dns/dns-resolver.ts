import { promises as dns, type RecordWithTtl } from 'node:dns';
import { isIP } from 'node:net';
import { Backoff } from '../../core/backoff.js';
import { ErrorCode, TrellisError } from '../../core/errors.js';
import { optionKeys, unknownOptions } from '../../core/validate.js';
import type { EndpointRecord } from '../endpoint.js';
import type { Resolver, ResolverSink } from '../resolver.js';
import { type UpdatePolicy, validateUpdatePolicy } from '../update-guard.js';
import { checkSrvRecords, type SrvRecord, selectSrvEndpoints } from './srv.js';

/** Options shared by {@link dnsSrv} and {@link dnsAddresses}. */
export interface DnsOptions {
  /**
   * DNS servers to ask instead of the system's, as `'ip'`, `'ip:port'` or `'[ipv6]:port'`
   * (the `node:dns` `setServers` format).
   */
  servers?: readonly string[];
  /**
   * Never re-resolve sooner than this, in ms, however short the TTL.
   *
   * @defaultValue 5000
   */
  minTtlMs?: number;
  /**
   * Re-resolve at least this often, in ms, however long the TTL; also the retry delay ceiling
   * after failures. Default 60000.
   */
  maxTtlMs?: number;
  /**
   * Time limit for one query attempt, in ms.
   *
   * @defaultValue 2000
   */
  timeoutMs?: number;
  /**
   * Attempts per query before it fails.
   *
   * @defaultValue 2
   */
  tries?: number;
  /** Debounce and empty-set grace. */
  updates?: UpdatePolicy;
}

/** What one resolution found. */
interface Answer {
  endpoints: EndpointRecord[];
  /** Smallest TTL among the records used, in seconds. */
  ttlSeconds: number;
  /** Targets that did not resolve (reported, not fatal while others did). */
  failures: Error[];
}

/** A DNS failure with the code node:dns gave (ENOTFOUND is NXDOMAIN, ETIMEOUT no answer, ...). */
function dnsFailure(name: string, err: Error): TrellisError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const hint =
    code === 'ENOTFOUND'
      ? 'the name does not exist (NXDOMAIN)'
      : code === 'ETIMEOUT'
        ? 'the DNS server did not answer'
        : err.message;
  return new TrellisError(
    ErrorCode.DiscoveryFailed,
    `DNS lookup of ${name} failed: ${hint} (${code}). The last good set stays in use; check the name and the DNS servers.`,
    { cause: err, details: { name, dnsCode: code } },
  );
}

const NO_DATA = new Set(['ENODATA', 'ENOTFOUND']);

/** A and AAAA records of `host` with their TTLs; throws when neither family has any. */
async function lookupAddresses(
  resolver: dns.Resolver,
  host: string,
): Promise<{ hosts: string[]; ttl: number }> {
  if (isIP(host) !== 0) return { hosts: [host], ttl: Number.POSITIVE_INFINITY };
  const settle = (query: Promise<RecordWithTtl[]>) =>
    query.then(
      (records) => ({ records, error: undefined }),
      (error: NodeJS.ErrnoException) => ({ records: [] as RecordWithTtl[], error }),
    );
  const [v4, v6] = await Promise.all([
    settle(resolver.resolve4(host, { ttl: true })),
    settle(resolver.resolve6(host, { ttl: true })),
  ]);
  const records = [...v4.records, ...v6.records];
  if (records.length === 0) {
    // A real failure (timeout, refused) outranks "no data" from the other family.
    const error = [v4.error, v6.error].find((e) => e && !NO_DATA.has(e.code ?? '')) ?? v4.error ?? v6.error;
    throw dnsFailure(host, error ?? new Error('no A or AAAA records'));
  }
  return { hosts: records.map((r) => r.address), ttl: Math.min(...records.map((r) => r.ttl)) };
}

const DNS_KEYS = optionKeys<DnsOptions>({
  servers: true,
  minTtlMs: true,
  maxTtlMs: true,
  timeoutMs: true,
  tries: true,
  updates: true,
});

function validateDnsOptions(options: DnsOptions): string[] {
  const problems = [...unknownOptions('dns', options, DNS_KEYS), ...validateUpdatePolicy(options?.updates)];
  for (const key of ['minTtlMs', 'maxTtlMs', 'timeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      problems.push(`${key} must be a positive number of milliseconds`);
    }
  }
  if ((options.minTtlMs ?? 5000) > (options.maxTtlMs ?? 60_000))
    problems.push('minTtlMs must not exceed maxTtlMs');
  if (options.tries !== undefined && !(Number.isInteger(options.tries) && options.tries >= 1)) {
    problems.push('tries must be an integer >= 1');
  }
  if (options.servers !== undefined) {
    try {
      new dns.Resolver().setServers([...options.servers]);
    } catch (err) {
      problems.push(`servers: ${(err as Error).message}; use 'ip', 'ip:port' or '[ipv6]:port'`);
    }
  }
  return problems;
}

/**
 * The polling loop shared by both DNS resolvers: resolve, publish, wait for the TTL (within
 * bounds), repeat; on failure keep the last set, report, and retry with backoff.
 */
function pollingResolver(
  description: string,
  options: DnsOptions,
  query: (r: dns.Resolver) => Promise<Answer>,
): Resolver {
  const minMs = options.minTtlMs ?? 5000;
  const maxMs = options.maxTtlMs ?? 60_000;
  return {
    description,
    updatePolicy: options.updates,
    validate: () => validateDnsOptions(options),
    resolve(sink: ResolverSink) {
      const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
      if (options.servers) resolver.setServers([...options.servers]);
      let closed = false;
      // Without jitter: minTtlMs promises never to re-resolve sooner, after a failure too.
      const backoff = new Backoff({ baseMs: minMs, maxMs, jitter: 0 });
      let timer: NodeJS.Timeout | undefined;
      let inFlight: Promise<void> | undefined;
      const schedule = (ms: number) => {
        if (closed) return;
        timer = setTimeout(() => {
          inFlight = tick();
        }, ms);
        timer.unref();
      };
      const tick = async (): Promise<void> => {
        try {
          const answer = await query(resolver);
          if (closed) return;
          backoff.reset();
          for (const failure of answer.failures) sink.error(failure);
          sink.update(answer.endpoints);
          schedule(Math.min(maxMs, Math.max(minMs, answer.ttlSeconds * 1000)));
        } catch (err) {
          if (closed) return;
          sink.error(err as Error);
          schedule(backoff.next());
        }
      };
      inFlight = tick();
      return {
        async close() {
          closed = true;
          clearTimeout(timer);
          resolver.cancel();
          await inFlight;
        },
      };
    },
  };
}

/**
 * Endpoints from DNS SRV records (`_service._proto.name`): targets, ports, priorities and
 * weights come from the records, the targets' addresses from their A/AAAA records. Re-resolved
 * on the records' TTL, bounded by `minTtlMs`/`maxTtlMs` (`node:dns` does not expose SRV TTLs, so
 * the targets' address TTLs are used). See `selectSrvEndpoints` (dns/srv.ts) for priorities and weights.
 *
 * @example
 * ```ts
 * s.discovery(dnsSrv('_http._tcp.api.internal', { servers: ['10.0.0.2'] }))
 * ```
 */
export function dnsSrv(name: string, options: DnsOptions = {}): Resolver {
  return pollingResolver(`dns-srv(${name})`, options, async (resolver) => {
    let records: SrvRecord[];
    try {
      records = checkSrvRecords(name, await resolver.resolveSrv(name));
    } catch (err) {
      throw err instanceof TrellisError ? err : dnsFailure(name, err as Error);
    }
    const targets = [...new Set(records.map((r) => r.name).filter((t) => t !== '.' && t !== ''))];
    const addresses = new Map<string, string[]>();
    const failures: Error[] = [];
    let ttlSeconds = Number.POSITIVE_INFINITY;
    await Promise.all(
      targets.map(async (target) => {
        try {
          const found = await lookupAddresses(resolver, target);
          addresses.set(target, found.hosts);
          ttlSeconds = Math.min(ttlSeconds, found.ttl);
        } catch (err) {
          failures.push(err as Error);
        }
      }),
    );
    if (targets.length > 0 && addresses.size === 0) throw failures[0]!;
    return { endpoints: selectSrvEndpoints(records, addresses), ttlSeconds, failures };
  });
}

/**
 * Endpoints from a host name's A and AAAA records, all on `port`. Re-resolved on the records'
 * TTL, bounded by `minTtlMs`/`maxTtlMs`.
 *
 * @example
 * ```ts
 * s.discovery(dnsAddresses('api.internal', 8080))
 * ```
 */
export function dnsAddresses(host: string, port: number, options: DnsOptions = {}): Resolver {
  const resolver = pollingResolver(`dns(${host}:${port})`, options, async (r) => {
    const found = await lookupAddresses(r, host);
    return { endpoints: found.hosts.map((h) => ({ host: h, port })), ttlSeconds: found.ttl, failures: [] };
  });
  return {
    ...resolver,
    validate() {
      const problems = resolver.validate!();
      if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) problems.push('port must be 1 to 65535');
      return problems;
    },
  };
}
