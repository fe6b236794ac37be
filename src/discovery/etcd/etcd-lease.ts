import type { EtcdClient } from './etcd-client.js';

/** Options for {@link EtcdClient.lease}. */
export interface EtcdLeaseOptions {
  /** Called once when etcd reports the lease gone (expired); its keys are already deleted. */
  onLost?(): void;
  /** Called when one keep-alive fails (etcd unreachable); the next one is tried at the usual pace. */
  onError?(err: Error): void;
}

let create!: (
  client: EtcdClient,
  id: string,
  ttlSeconds: number,
  options: EtcdLeaseOptions,
  forget: (lease: EtcdLease) => void,
) => EtcdLease;

/** A lease kept alive for `client` (`EtcdClient.lease`; the constructor is private). */
export function createLease(
  client: EtcdClient,
  id: string,
  ttlSeconds: number,
  options: EtcdLeaseOptions,
  forget: (lease: EtcdLease) => void,
): EtcdLease {
  return create(client, id, ttlSeconds, options, forget);
}

/**
 * A granted lease kept alive by renewing it at a third of its TTL, so two renewals can fail
 * before it expires. From {@link EtcdClient.lease}.
 */
export class EtcdLease {
  /** The lease ID, to pass as `lease` to {@link EtcdClient.put}. */
  readonly id: string;
  /** The TTL etcd granted, in seconds. */
  readonly ttlSeconds: number;
  readonly #client: EtcdClient;
  readonly #options: EtcdLeaseOptions;
  readonly #forget: (lease: EtcdLease) => void;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #stopped = false;
  #lost = false;

  static {
    create = (client, id, ttlSeconds, options, forget) =>
      new EtcdLease(client, id, ttlSeconds, options, forget);
  }

  /** Made by {@link EtcdClient.lease}. */
  private constructor(
    client: EtcdClient,
    id: string,
    ttlSeconds: number,
    options: EtcdLeaseOptions,
    forget: (lease: EtcdLease) => void,
  ) {
    this.#client = client;
    this.id = id;
    this.ttlSeconds = ttlSeconds;
    this.#options = options;
    this.#forget = forget;
    this.#schedule();
  }

  /** True once etcd has reported the lease expired. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Stops renewing and revokes the lease, deleting its keys now rather than at expiry. */
  async revoke(): Promise<void> {
    const wasLost = this.#lost;
    await this.close();
    if (!wasLost) await this.#client.leaseRevoke(this.id);
  }

  /** Stops renewing without revoking: the keys stay until the TTL runs out. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#forget(this);
    await this.#inFlight;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const everyMs = Math.max(200, (this.ttlSeconds * 1000) / 3);
    this.#timer = setTimeout(() => {
      this.#inFlight = this.#renew().finally(() => {
        this.#inFlight = undefined;
      });
    }, everyMs);
  }

  async #renew(): Promise<void> {
    try {
      const ttl = await this.#client.leaseKeepAliveOnce(this.id);
      if (this.#stopped) return;
      if (ttl <= 0) {
        this.#stopped = true;
        this.#lost = true;
        this.#forget(this);
        this.#options.onLost?.();
        return;
      }
    } catch (err) {
      if (this.#stopped) return;
      this.#options.onError?.(err as Error);
    }
    this.#schedule();
  }
}
