import { ErrorCode, TrellisError } from '../../core/errors.js';
import { sleep } from '../../core/time.js';
import { optionKeys, refuseUnknownOptions } from '../../core/validate.js';
import { type EndpointRecord, parseEndpoint } from '../endpoint.js';
import { reconnectBackoff } from '../reconnect-backoff.js';
import type { EtcdClient } from './etcd-client.js';
import type { EtcdLease } from './etcd-lease.js';
import { DEFAULT_ETCD_PREFIX, servicePrefix } from './etcd-resolver.js';

/** Options for {@link registerEndpoint}. */
export interface RegistrationOptions {
  /** The etcd client to register with (the registration does not close it). */
  etcd: EtcdClient;
  /** Service name to register under. */
  service: string;
  /** This instance's endpoint as others should reach it. */
  endpoint: EndpointRecord;
  /** Key prefix. Default {@link DEFAULT_ETCD_PREFIX}. */
  prefix?: string;
  /** Lease TTL in seconds: how long the entry outlives this process. Default 10. */
  ttlSeconds?: number;
  /** Keep-alive failures and re-registration failures (the registration keeps trying). */
  onError?(err: Error): void;
}

/** Set by {@link EtcdRegistration}'s static block: registers, then hands the registration back. */
let start!: (options: RegistrationOptions, key: string, value: string) => Promise<EtcdRegistration>;

const REGISTRATION_KEYS = optionKeys<RegistrationOptions>({
  etcd: true,
  service: true,
  endpoint: true,
  prefix: true,
  ttlSeconds: true,
  onError: true,
});

/**
 * A service instance's entry in etcd, under a lease kept alive in the background. If the lease is
 * lost (etcd could not be reached for longer than the TTL), the entry is written again under a
 * new lease. From {@link registerEndpoint}.
 */
export class EtcdRegistration {
  /** The key this instance is registered under. */
  readonly key: string;
  readonly #options: RegistrationOptions;
  readonly #value: string;
  #lease: EtcdLease | undefined;
  #renewing: Promise<void> | undefined;
  /** Aborted by `close()`: ends a re-registration's wait at once. */
  readonly #closing = new AbortController();

  static {
    start = async (options, key, value) => {
      const registration = new EtcdRegistration(options, key, value);
      await registration.#register();
      return registration;
    };
  }

  /** Made by {@link registerEndpoint}. */
  private constructor(options: RegistrationOptions, key: string, value: string) {
    this.#options = options;
    this.key = key;
    this.#value = value;
  }

  /** The ID of the lease currently holding the entry. */
  get leaseId(): string | undefined {
    return this.#lease?.id;
  }

  /** Grants a lease and writes the entry under it. */
  async #register(): Promise<void> {
    const { etcd, ttlSeconds = 10 } = this.#options;
    const lease = await etcd.lease(ttlSeconds, {
      onLost: () => this.#reRegister(),
      onError: (err) => this.#options.onError?.(err),
    });
    try {
      if (!this.#closed) await etcd.put(this.key, this.#value, { lease: lease.id });
    } catch (err) {
      await lease.revoke().catch(() => undefined);
      throw err;
    }
    if (this.#closed) await lease.revoke();
    else this.#lease = lease;
  }

  /**
   * Deregisters: revokes the lease, so the entry is deleted now and watchers see it go.
   *
   * @throws `TrellisError` `TRELLIS_DISCOVERY_FAILED` when etcd cannot be reached; the entry then
   *   disappears when its lease expires.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing.abort();
    await this.#renewing;
    try {
      await this.#lease?.revoke();
    } catch (err) {
      throw new TrellisError(
        ErrorCode.DiscoveryFailed,
        `Could not deregister ${this.key} (${(err as Error).message}); it disappears when its lease expires, ` +
          `within ${this.#options.ttlSeconds ?? 10} s.`,
        { cause: err, details: { key: this.key } },
      );
    }
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  #reRegister(): void {
    if (this.#closed) return;
    const attempt = async (): Promise<void> => {
      const backoff = reconnectBackoff(200, 5000);
      let waitMs = 0;
      while (!this.#closed) {
        try {
          // The wait is inside the try: closing aborts it, and the catch below ends the loop.
          if (waitMs > 0) await sleep(waitMs, this.#closing.signal);
          await this.#register();
          return;
        } catch (err) {
          if (this.#closed) return;
          this.#options.onError?.(err as Error);
          waitMs = backoff.next();
        }
      }
    };
    this.#renewing = attempt().finally(() => {
      this.#renewing = undefined;
    });
  }
}

/**
 * Registers this instance in etcd under `<prefix><service>/<host:port>` with a lease kept alive
 * in the background, for {@link etcdEndpoints} to find. Call `close()` on shutdown to deregister;
 * if the process dies instead, the entry disappears when the lease's TTL runs out.
 *
 * @example
 * ```ts
 * const registration = await registerEndpoint({ etcd, service: 'api', endpoint: { host: '10.0.0.1', port: 8080 } });
 * process.on('SIGTERM', () => registration.close());
 * ```
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` for an unknown option, an invalid endpoint or TTL; the client's
 *   error when etcd cannot be reached.
 */
export async function registerEndpoint(options: RegistrationOptions): Promise<EtcdRegistration> {
  refuseUnknownOptions('registerEndpoint', options, REGISTRATION_KEYS);
  let endpoint: ReturnType<typeof parseEndpoint>;
  try {
    endpoint = parseEndpoint(options.endpoint);
  } catch (err) {
    throw new TrellisError(ErrorCode.InvalidConfig, `Cannot register: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const ttl = options.ttlSeconds ?? 10;
  if (!(Number.isInteger(ttl) && ttl >= 2)) {
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      'ttlSeconds must be an integer >= 2 (etcd rounds smaller TTLs up).',
    );
  }
  const { host, port, weight, zone, metadata } = endpoint;
  const value = JSON.stringify({ host, port, weight, zone, metadata });
  const key = `${servicePrefix(options.prefix ?? DEFAULT_ETCD_PREFIX, options.service)}${endpoint.id}`;
  return start(options, key, value);
}
