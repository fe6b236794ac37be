import type { Backoff } from '../../core/backoff.js';
import { ErrorCode, TrellisError } from '../../core/errors.js';
import { reconnectBackoff } from '../reconnect-backoff.js';
import { reconnectLoop } from '../reconnect-loop.js';
import { type EtcdEvent, type EtcdKeyValue, encode, parseWatchMessage, prefixRangeEnd } from './codec.js';
import { type EtcdClient, etcdCall, etcdOrigin, etcdStream } from './etcd-client.js';

/** Callbacks of a prefix watch. They run in order, never concurrently. */
export interface EtcdWatchHandlers {
  /**
   * The complete current contents of the prefix, read at `revision`: at start (unless a
   * `startRevision` was given) and again whenever the watch had to resync because etcd compacted
   * the revisions it missed. Replace what you hold with this. When it returns a promise, the
   * watch waits for it before it streams the changes that followed (so a large snapshot can be
   * worked through in slices without events overtaking it).
   */
  onSnapshot(kvs: EtcdKeyValue[], revision: number): void | Promise<void>;
  /** Changes after the last snapshot or batch, in revision order. */
  onEvents(events: EtcdEvent[]): void;
  /** A transient failure (etcd unreachable, stream dropped); the watch keeps retrying. */
  onError?(err: Error): void;
}

/** Options for {@link EtcdClient.watch}. */
export interface EtcdWatchOptions {
  /** Watch from this revision (inclusive) instead of reading a snapshot first. */
  startRevision?: number;
  /** First delay before reconnecting a dropped watch, in ms (doubles up to `maxBackoffMs`). Default 100. */
  minBackoffMs?: number;
  /** Longest delay between reconnection attempts, in ms. Default 5000. */
  maxBackoffMs?: number;
  /**
   * When the stream has been silent this long, in ms, ask etcd a cheap question on another
   * request; if that fails, the member is frozen or cut off (a TCP stream can stay open without
   * ever failing), so the watch reconnects, to another member if there are several. Default
   * 30000; 0 turns the check off.
   */
  livenessCheckMs?: number;
}

class Compacted extends Error {}

/** Keys read per request when the watch (re-)reads its prefix: each reply stays small to parse. */
export const SNAPSHOT_PAGE_KEYS = 1000;

let create!: (
  client: EtcdClient,
  prefix: string,
  handlers: EtcdWatchHandlers,
  options: EtcdWatchOptions,
  forget: (watch: EtcdWatch) => void,
) => EtcdWatch;

/** A watch of `prefix` for `client` (`EtcdClient.watch`; the constructor is private). */
export function createWatch(
  client: EtcdClient,
  prefix: string,
  handlers: EtcdWatchHandlers,
  options: EtcdWatchOptions,
  forget: (watch: EtcdWatch) => void,
): EtcdWatch {
  return create(client, prefix, handlers, options, forget);
}

/**
 * A running prefix watch, from {@link EtcdClient.watch}. It tracks the revision after the last
 * event it delivered and resumes there after a dropped stream, so handlers see each change once.
 */
export class EtcdWatch {
  readonly #client: EtcdClient;
  readonly #prefix: string;
  readonly #handlers: EtcdWatchHandlers;
  readonly #backoff: Backoff;
  readonly #livenessCheckMs: number;
  readonly #forget: (watch: EtcdWatch) => void;
  readonly #done: Promise<void>;
  #next: number | undefined;
  /** Aborted by `close()`: ends the reconnection wait at once. */
  readonly #closing = new AbortController();
  #abort: AbortController | undefined;

  static {
    create = (client, prefix, handlers, options, forget) =>
      new EtcdWatch(client, prefix, handlers, options, forget);
  }

  /** Made by {@link EtcdClient.watch}. */
  private constructor(
    client: EtcdClient,
    prefix: string,
    handlers: EtcdWatchHandlers,
    options: EtcdWatchOptions,
    forget: (watch: EtcdWatch) => void,
  ) {
    this.#client = client;
    this.#prefix = prefix;
    this.#handlers = handlers;
    this.#backoff = reconnectBackoff(options.minBackoffMs ?? 100, options.maxBackoffMs ?? 5000);
    this.#livenessCheckMs = options.livenessCheckMs ?? 30_000;
    this.#next = options.startRevision;
    this.#forget = forget;
    this.#done = this.#run();
  }

  /** The revision the watch will resume from if its stream drops now. */
  get nextRevision(): number | undefined {
    return this.#next;
  }

  /** Stops the watch and waits until its stream and timers are gone. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closing.abort();
      this.#abort?.abort();
      this.#forget(this);
    }
    await this.#done;
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  #run(): Promise<void> {
    const onError = (err: Error) => this.#report(err);
    return reconnectLoop(this.#closing.signal, this.#backoff, onError, async () => {
      try {
        if (this.#next === undefined) await this.#resync();
        if (this.#closed) return 0;
        await this.#follow(this.#next!);
      } catch (err) {
        if (!(err instanceof Compacted)) throw err;
        this.#next = undefined; // the missed revisions are gone: read the prefix again, at once
        return 0;
      }
      if (this.#closed) return 0;
      throw new TrellisError(ErrorCode.DiscoveryFailed, `etcd closed the watch on '${this.#prefix}'.`);
    });
  }

  /** Reads the prefix page by page at one revision, then hands it over whole. */
  async #resync(): Promise<void> {
    let page = await this.#client.rangePage(this.#prefix, { limit: SNAPSHOT_PAGE_KEYS });
    const kvs = page.kvs;
    const revision = page.revision;
    while (page.more && page.kvs.length > 0 && !this.#closed) {
      const after = page.kvs[page.kvs.length - 1]!.key;
      page = await this.#client.rangePage(this.#prefix, { limit: SNAPSHOT_PAGE_KEYS, after, revision });
      for (const kv of page.kvs) kvs.push(kv);
    }
    if (this.#closed) return;
    this.#next = revision + 1;
    try {
      await this.#handlers.onSnapshot(kvs, revision);
    } catch (err) {
      this.#report(err as Error);
    }
  }

  /** Streams events from `from` until the stream ends or fails. */
  async #follow(from: number): Promise<void> {
    this.#abort = new AbortController();
    const request = {
      create_request: {
        key: encode(this.#prefix),
        range_end: prefixRangeEnd(this.#prefix),
        start_revision: from,
      },
    };
    const abort = this.#abort;
    const origin = etcdOrigin(this.#client);
    const response = await etcdStream(this.#client, '/v3/watch', request, abort.signal);
    let buffered = '';
    let heard = true;
    let stale: Error | undefined;
    const liveness =
      this.#livenessCheckMs > 0
        ? setInterval(() => {
            if (heard) {
              heard = false;
              return;
            }
            const check = {
              key: encode(this.#prefix),
              range_end: prefixRangeEnd(this.#prefix),
              count_only: true,
            };
            etcdCall(this.#client, '/v3/kv/range', check).then(
              () => {
                // Answered, but by another member: the one holding this stream is gone.
                if (etcdOrigin(this.#client) !== origin) {
                  stale = new Error(`${origin} stopped answering`);
                  abort.abort();
                }
              },
              (err: Error) => {
                stale = err;
                abort.abort();
              },
            );
          }, this.#livenessCheckMs)
        : undefined;
    liveness?.unref();
    try {
      for await (const chunk of response.body) {
        heard = true;
        buffered += (chunk as Buffer).toString('utf8');
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') this.#handle(line);
          newline = buffered.indexOf('\n');
        }
      }
    } catch (err) {
      if (stale && !this.#closed) {
        throw new TrellisError(
          ErrorCode.DiscoveryFailed,
          `The watch on '${this.#prefix}' was silent and etcd did not answer a check (${stale.message}); reconnecting.`,
          { cause: stale },
        );
      }
      throw err;
    } finally {
      clearInterval(liveness);
      response.body.destroy();
    }
  }

  #handle(line: string): void {
    const message = parseWatchMessage(line);
    if (message.compactRevision > 0) throw new Compacted();
    if (message.canceled) {
      throw new TrellisError(
        ErrorCode.DiscoveryFailed,
        `etcd canceled the watch on '${this.#prefix}'${message.cancelReason ? `: ${message.cancelReason}` : ''}.`,
      );
    }
    if (message.created) this.#backoff.reset();
    if (message.events.length === 0) return;
    let last = this.#next ?? 0;
    for (const event of message.events) last = Math.max(last, event.kv.modRevision);
    this.#next = last + 1;
    this.#deliver(() => this.#handlers.onEvents(message.events));
  }

  /** A throwing handler is the caller's bug: report it, but keep the watch's position. */
  #deliver(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.#report(err as Error);
    }
  }

  #report(err: Error): void {
    try {
      this.#handlers.onError?.(err);
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  }
}
