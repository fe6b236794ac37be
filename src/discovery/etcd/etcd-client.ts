import { Agent, type Dispatcher } from 'undici';
import { ErrorCode, TrellisError } from '../../core/errors.js';
import { optionKeys, refuseUnknownOptions, unknownOptions } from '../../core/validate.js';
import {
  type EtcdKeyValue,
  encode,
  headerRevision,
  int64,
  leaseId,
  malformed,
  parseKvs,
  parseReply,
  prefixRangeEnd,
} from './codec.js';
import { createLease, type EtcdLease, type EtcdLeaseOptions } from './etcd-lease.js';
import { createWatch, type EtcdWatch, type EtcdWatchHandlers, type EtcdWatchOptions } from './etcd-watch.js';

/** Options for {@link EtcdClient}. */
export interface EtcdClientOptions {
  /**
   * Client URLs of the etcd members, e.g. `['http://127.0.0.1:2379']`. Calls go to one member
   * and move to the next when it cannot be reached.
   */
  endpoints: readonly string[];
  /** Time limit for one unary call (range, put, delete, lease grant/revoke), in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * undici dispatcher to use instead of the client's own (for TLS options, for example). The
   * client never closes a dispatcher it was given.
   */
  dispatcher?: Dispatcher;
  /**
   * User name and password, for an etcd with authentication enabled. The client exchanges them
   * for a token on its first call, and for a new one when etcd says the token is no longer valid.
   */
  auth?: EtcdAuth;
}

/** Credentials of an etcd user, for {@link EtcdClientOptions.auth}. */
export interface EtcdAuth {
  /** The etcd user name. */
  username: string;
  /** Its password. */
  password: string;
}

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });
/** etcd's gRPC status for a missing, expired or revoked token (UNAUTHENTICATED). */
const UNAUTHENTICATED = 16;

/** The result of a range read: the keys found and the store revision they were read at. */
export interface EtcdRange {
  /** Keys in key order. */
  readonly kvs: EtcdKeyValue[];
  /** The store revision of the read; watch from `revision + 1` to see every later change. */
  readonly revision: number;
}

/** One page of a range read, from {@link EtcdClient.rangePage}. */
export interface EtcdRangePage extends EtcdRange {
  /** True when more keys follow: read on with `after` set to the last key of this page. */
  readonly more: boolean;
}

/** The result of a write: the store revision it created. */
export interface EtcdWriteResult {
  /** The revision of the write. */
  readonly revision: number;
}

/** The result of {@link EtcdClient.delete}. */
export interface EtcdDeleteResult extends EtcdWriteResult {
  /** How many keys were deleted. */
  readonly deleted: number;
}

/** A lease as etcd granted it. */
export interface EtcdGrant {
  /** The lease ID (64-bit, kept as a decimal string). */
  readonly id: string;
  /** The TTL etcd granted, in seconds (etcd may round small TTLs up). */
  readonly ttlSeconds: number;
}

type JsonBody = Record<string, unknown>;
let call!: (client: EtcdClient, path: string, body: JsonBody) => Promise<JsonBody>;
let stream!: (
  client: EtcdClient,
  path: string,
  body: JsonBody,
  signal: AbortSignal,
) => Promise<Dispatcher.ResponseData>;
let origin!: (client: EtcdClient) => string;

/**
 * One unary call to etcd's JSON gateway (`/v3/kv/txn`...), moving to the next member when one
 * cannot be reached; with `auth`, it authenticates first and once more when etcd rejects the token.
 */
export function etcdCall(client: EtcdClient, path: string, body: JsonBody): Promise<JsonBody> {
  return call(client, path, body);
}

/** Opens a streaming call (watch); the caller reads and destroys the body. */
export function etcdStream(
  client: EtcdClient,
  path: string,
  body: JsonBody,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData> {
  return stream(client, path, body, signal);
}

/** The member URL the client's calls currently go to. */
export function etcdOrigin(client: EtcdClient): string {
  return origin(client);
}

const CLIENT_KEYS = optionKeys<EtcdClientOptions>({
  endpoints: true,
  timeoutMs: true,
  dispatcher: true,
  auth: true,
});
const LEASE_KEYS = optionKeys<EtcdLeaseOptions>({ onLost: true, onError: true });
const WATCH_KEYS = optionKeys<EtcdWatchOptions>({
  startRevision: true,
  minBackoffMs: true,
  maxBackoffMs: true,
  livenessCheckMs: true,
});
const WATCH_HANDLER_KEYS = optionKeys<EtcdWatchHandlers>({ onSnapshot: true, onEvents: true, onError: true });

/**
 * A small etcd v3 client over etcd's JSON gateway (`/v3/...`, etcd 3.4 and later), using undici,
 * which trellis already ships, instead of a gRPC stack. It covers what service discovery needs:
 * reads by key or prefix, put, delete, prefix watches that resume from the last seen revision
 * and resync after compaction, and leases with keep-alive.
 *
 * @example
 * ```ts
 * const etcd = new EtcdClient({ endpoints: ['http://127.0.0.1:2379'] });
 * await etcd.put('/services/api/10.0.0.1:8080', JSON.stringify({ host: '10.0.0.1', port: 8080 }));
 * const { kvs, revision } = await etcd.range('/services/api/');
 * await etcd.close();
 * ```
 */
export class EtcdClient {
  readonly #endpoints: string[];
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #open = new Set<{ close(): Promise<void> }>();
  readonly #auth: EtcdClientOptions['auth'];
  #token: string | undefined;
  #authenticating: Promise<string> | undefined;
  #current = 0;
  #closed = false;

  constructor(options: EtcdClientOptions) {
    const problems = EtcdClient.validate(options);
    if (problems.length > 0) {
      throw new TrellisError(ErrorCode.InvalidConfig, `Invalid etcd client options: ${problems.join('; ')}`, {
        details: { problems },
      });
    }
    this.#endpoints = options.endpoints.map((url) => url.replace(/\/+$/, ''));
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#auth = options.auth;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000 });
  }

  /** Problems with client options (empty when valid). */
  static validate(options: EtcdClientOptions): string[] {
    const problems = unknownOptions('EtcdClient', options, CLIENT_KEYS);
    if (!Array.isArray(options?.endpoints) || options.endpoints.length === 0) {
      problems.push("give at least one etcd URL in 'endpoints', e.g. 'http://127.0.0.1:2379'");
    } else {
      for (const url of options.endpoints) {
        if (typeof url !== 'string' || !/^https?:\/\/[^/]+\/?$/.test(url)) {
          problems.push(`'${String(url)}' is not an etcd client URL like 'http://127.0.0.1:2379'`);
        }
      }
    }
    const auth = options?.auth;
    if (auth !== undefined && !(typeof auth?.username === 'string' && typeof auth.password === 'string')) {
      problems.push('auth must be { username, password } with both strings');
    }
    const timeout = options?.timeoutMs;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
      problems.push('timeoutMs must be a positive number of milliseconds');
    }
    return problems;
  }

  /** Reads one key; `undefined` when it does not exist. */
  async get(key: string): Promise<EtcdKeyValue | undefined> {
    const reply = await this.#call('/v3/kv/range', { key: encode(key) });
    return parseKvs(reply.kvs)[0];
  }

  /** Reads every key that starts with `prefix`, at one consistent revision. */
  async range(prefix: string): Promise<EtcdRange> {
    const reply = await this.#call('/v3/kv/range', {
      key: encode(prefix),
      range_end: prefixRangeEnd(prefix),
    });
    return { kvs: parseKvs(reply.kvs), revision: headerRevision(reply) };
  }

  /**
   * Reads at most `limit` keys under `prefix`, after the key `after` when given, at `revision`
   * when given (pin the first page's revision to read a large prefix page by page, consistently,
   * without one huge reply to parse at once).
   */
  async rangePage(
    prefix: string,
    options: { limit: number; after?: string; revision?: number },
  ): Promise<EtcdRangePage> {
    const body: Record<string, unknown> = {
      key: encode(options.after === undefined ? prefix : `${options.after}\0`),
      range_end: prefixRangeEnd(prefix),
      limit: options.limit,
    };
    if (options.revision !== undefined) body.revision = options.revision;
    const reply = await this.#call('/v3/kv/range', body);
    return { kvs: parseKvs(reply.kvs), revision: headerRevision(reply), more: reply.more === true };
  }

  /** Writes a key, optionally attached to a lease (the key disappears when the lease ends). */
  async put(key: string, value: string, options: { lease?: string } = {}): Promise<EtcdWriteResult> {
    const body: Record<string, unknown> = { key: encode(key), value: encode(value) };
    if (options.lease !== undefined && options.lease !== '0') body.lease = options.lease;
    return { revision: headerRevision(await this.#call('/v3/kv/put', body)) };
  }

  /** Deletes one key, or with `{ prefix: true }` every key that starts with `key`. */
  async delete(key: string, options: { prefix?: boolean } = {}): Promise<EtcdDeleteResult> {
    const body: Record<string, unknown> = { key: encode(key) };
    if (options.prefix) body.range_end = prefixRangeEnd(key);
    const reply = await this.#call('/v3/kv/deleterange', body);
    return { deleted: int64(reply.deleted, 'deleted'), revision: headerRevision(reply) };
  }

  /** Grants a lease of `ttlSeconds`; returns its ID. Prefer {@link EtcdClient.lease}, which keeps it alive. */
  async leaseGrant(ttlSeconds: number): Promise<EtcdGrant> {
    const reply = await this.#call('/v3/lease/grant', { TTL: ttlSeconds });
    if (typeof reply.error === 'string' && reply.error !== '') {
      throw new TrellisError(ErrorCode.DiscoveryFailed, `etcd refused the lease: ${reply.error}.`);
    }
    return { id: leaseId(reply.ID), ttlSeconds: int64(reply.TTL, 'TTL') };
  }

  /** Renews a lease once; returns the remaining TTL in seconds, 0 when the lease no longer exists. */
  async leaseKeepAliveOnce(id: string): Promise<number> {
    const reply = await this.#call('/v3/lease/keepalive', { ID: id });
    const result = reply.result;
    if (result === null || typeof result !== 'object') return int64(reply.TTL, 'TTL');
    return int64((result as Record<string, unknown>).TTL, 'TTL');
  }

  /** Revokes a lease: every key attached to it is deleted at once. */
  async leaseRevoke(id: string): Promise<void> {
    try {
      await this.#call('/v3/lease/revoke', { ID: id });
    } catch (err) {
      // Revoking a lease that already expired is what the caller wanted anyway.
      if (!/lease not found/.test((err as Error).message)) throw err;
    }
  }

  /**
   * Grants a lease and keeps it alive (renewing at a third of its TTL) until `revoke()` or
   * `close()`. `onLost` is called when etcd reports the lease gone (it expired while this process
   * could not reach etcd); the keys attached to it are then already deleted.
   */
  async lease(ttlSeconds: number, options: EtcdLeaseOptions = {}): Promise<EtcdLease> {
    this.#checkOpen();
    refuseUnknownOptions('EtcdClient.lease', options, LEASE_KEYS);
    const granted = await this.leaseGrant(ttlSeconds);
    const lease = createLease(this, granted.id, granted.ttlSeconds, options, (l) => this.#open.delete(l));
    this.#open.add(lease);
    return lease;
  }

  /**
   * Watches every key under `prefix`. Without `startRevision`, it first reads the prefix and hands
   * it to `onSnapshot`, then streams every later change to `onEvents`. A dropped stream is resumed
   * from the revision after the last event seen, so no change is missed or repeated; when etcd
   * has compacted that revision away, the watch re-reads the prefix (`onSnapshot` again) and
   * continues from there.
   */
  watch(prefix: string, handlers: EtcdWatchHandlers, options: EtcdWatchOptions = {}): EtcdWatch {
    this.#checkOpen();
    refuseUnknownOptions('EtcdClient.watch', handlers, WATCH_HANDLER_KEYS);
    refuseUnknownOptions('EtcdClient.watch', options, WATCH_KEYS);
    const watch = createWatch(this, prefix, handlers, options, (w) => this.#open.delete(w));
    this.#open.add(watch);
    return watch;
  }

  /** Stops every watch and lease keep-alive (leases are not revoked) and closes connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#open].map((open) => open.close()));
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  // The watch's and the CLI's side of the client, kept out of its public members.
  static {
    call = (client, path, body) => client.#call(path, body);
    stream = (client, path, body, signal) => client.#stream(path, body, signal);
    origin = (client) => client.#origin();
  }

  /** The member URL calls currently go to. */
  #origin(): string {
    return this.#endpoints[this.#current]!;
  }

  /**
   * One unary JSON call, moving to the next member when one cannot be reached; with `auth`, it
   * authenticates first and once more when etcd rejects the token.
   */
  async #call(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    try {
      return await this.#send(path, body, await this.#headers());
    } catch (err) {
      if (!this.#staleToken(err)) throw err;
      return this.#send(path, body, await this.#headers());
    }
  }

  /** Headers of a call: JSON, and the auth token when the client authenticates. */
  async #headers(): Promise<Readonly<Record<string, string>>> {
    if (this.#auth === undefined) return JSON_HEADERS;
    const token = this.#token ?? (await this.#authenticate());
    return { ...JSON_HEADERS, authorization: token };
  }

  /** Exchanges the user name and password for a token (one exchange at a time). */
  #authenticate(): Promise<string> {
    const { username, password } = this.#auth!;
    this.#authenticating ??= this.#send('/v3/auth/authenticate', { name: username, password }, JSON_HEADERS)
      .then((reply) => {
        if (typeof reply.token !== 'string' || reply.token === '') throw malformed('no auth token', reply);
        this.#token = reply.token;
        return reply.token;
      })
      .finally(() => {
        this.#authenticating = undefined;
      });
    return this.#authenticating;
  }

  /** True (and the token forgotten) when `err` is etcd refusing the token the call carried. */
  #staleToken(err: unknown): boolean {
    if (this.#auth === undefined || this.#token === undefined) return false;
    const details = (err as TrellisError).details as { etcdCode?: unknown } | undefined;
    if (details?.etcdCode !== UNAUTHENTICATED) return false;
    this.#token = undefined;
    return true;
  }

  async #send(
    path: string,
    body: Record<string, unknown>,
    headers: Readonly<Record<string, string>>,
  ): Promise<Record<string, unknown>> {
    this.#checkOpen();
    let lastError: unknown;
    for (let tries = 0; tries < this.#endpoints.length; tries++) {
      const origin = this.#endpoints[this.#current]!;
      let response: Dispatcher.ResponseData;
      try {
        response = await this.#dispatcher.request({
          origin,
          path,
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
        });
      } catch (err) {
        lastError = err;
        this.#current = (this.#current + 1) % this.#endpoints.length;
        continue;
      }
      const text = await response.body.text();
      const reply = parseReply(text);
      if (response.statusCode !== 200) {
        throw new TrellisError(
          ErrorCode.DiscoveryFailed,
          `etcd at ${origin} answered ${path} with ${response.statusCode}: ${String(reply.message ?? reply.error ?? text)}.` +
            (reply.code === UNAUTHENTICATED || reply.code === 7 || /user name is empty/.test(text)
              ? ' This etcd checks users: give auth { username, password } of a user allowed to use these keys.'
              : ''),
          { details: { status: response.statusCode, etcdCode: reply.code } },
        );
      }
      return reply;
    }
    throw new TrellisError(
      ErrorCode.DiscoveryFailed,
      `No etcd member could be reached (${this.#endpoints.join(', ')}): ${(lastError as Error)?.message}. ` +
        'Check the endpoints and that etcd is running.',
      { cause: lastError },
    );
  }

  /** Opens a streaming call (watch); the caller reads and destroys the body. */
  async #stream(
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    this.#checkOpen();
    const headers = await this.#headers();
    const origin = this.#endpoints[this.#current]!;
    try {
      const response = await this.#dispatcher.request({
        origin,
        path,
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: 0,
        signal,
      });
      if (response.statusCode !== 200) {
        const text = await response.body.text();
        // A rejected token is replaced on the next attempt (the watch retries with backoff).
        if (response.statusCode === 401) this.#token = undefined;
        throw new TrellisError(
          ErrorCode.DiscoveryFailed,
          `etcd at ${origin} answered ${path} with ${response.statusCode}: ${text.slice(0, 200)}.`,
        );
      }
      return response;
    } catch (err) {
      this.#current = (this.#current + 1) % this.#endpoints.length;
      throw err;
    }
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new TrellisError(
        ErrorCode.DiscoveryFailed,
        'This etcd client is closed: create a new EtcdClient.',
      );
    }
  }
}
