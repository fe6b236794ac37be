import type { ServerResponse } from 'node:http';
import type { CompletionFeed, RequestCompletion } from '../telemetry/completion-feed.js';
import { type TapFilter, tapMatches } from './tap-filter.js';

/** Limits of each tap client. */
export interface TapLimits {
  /** Events queued for a client that is not reading; past it they are dropped and counted [256]. */
  buffer: number;
  /** Events sent per second per client; past it calls are sampled out and counted [200]. */
  maxPerSecond: number;
}

/** Default {@link TapLimits}. */
export const DEFAULT_TAP_LIMITS: TapLimits = { buffer: 256, maxPerSecond: 200 };

/**
 * One `/tap` client: a Server-Sent Events stream of the finished calls its filter passes. The
 * request path only filters and queues (no serialising, no writing); a flush later writes
 * while the socket takes it. A client that stops reading fills its bounded queue, then its
 * events are dropped and counted, and once it has missed a whole queue's worth it is cut.
 */
class TapClient {
  readonly #res: ServerResponse;
  readonly #filter: TapFilter;
  readonly #limits: TapLimits;
  readonly #queue: RequestCompletion[] = [];
  #blocked = false;
  #scheduled = false;
  #closed = false;
  #windowStart = 0;
  #inWindow = 0;
  /** Dropped since the client last caught up; reported to it, and the reason it is cut. */
  #droppedRun = 0;
  #sampledRun = 0;
  readonly #onCut: (dropped: number) => void;

  constructor(res: ServerResponse, filter: TapFilter, limits: TapLimits, onCut: (dropped: number) => void) {
    this.#res = res;
    this.#filter = filter;
    this.#limits = limits;
    this.#onCut = onCut;
    res.on('drain', () => {
      this.#blocked = false;
      this.#flush();
    });
  }

  /** Takes a finished call: filter, sample, queue (called on the request path's tail). */
  offer(call: RequestCompletion): 'queued' | 'filtered' | 'sampled' | 'dropped' {
    if (this.#closed || !tapMatches(this.#filter, call)) return 'filtered';
    const now = call.at;
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= this.#limits.maxPerSecond) {
      this.#sampledRun++;
      return 'sampled';
    }
    if (this.#queue.length >= this.#limits.buffer) {
      this.#droppedRun++;
      if (this.#droppedRun > this.#limits.buffer) this.#cut();
      return 'dropped';
    }
    this.#inWindow++;
    this.#queue.push(call);
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
    return 'queued';
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#closed) return;
    let ok = true;
    if (this.#droppedRun > 0 || this.#sampledRun > 0) {
      ok = this.#res.write(
        `event: skipped\ndata: {"dropped":${this.#droppedRun},"sampled":${this.#sampledRun}}\n\n`,
      );
      this.#droppedRun = 0;
      this.#sampledRun = 0;
    }
    while (ok && this.#queue.length > 0)
      ok = this.#res.write(`data: ${JSON.stringify(this.#queue.shift())}\n\n`);
    this.#blocked = !ok;
  };

  #cut(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#onCut(this.#droppedRun);
    this.#res.destroy();
  }

  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
  }
}

/** Counts of what the tap did, for tests and `/services`. */
export interface TapCounts {
  /** Clients connected now. */
  clients: number;
  /** Events dropped because a client's queue was full. */
  dropped: number;
  /** Calls not sent because a client was at its rate. */
  sampled: number;
  /** Clients cut for not reading. */
  cut: number;
}

/** The `/tap` clients of one admin endpoint: subscribed to the completion feed while any is connected. */
export class TapHub {
  readonly #feed: CompletionFeed;
  readonly #limits: TapLimits;
  readonly #clients = new Set<TapClient>();
  #unsubscribe: (() => void) | undefined;
  readonly counts: TapCounts = { clients: 0, dropped: 0, sampled: 0, cut: 0 };

  constructor(feed: CompletionFeed, limits: TapLimits = DEFAULT_TAP_LIMITS) {
    this.#feed = feed;
    this.#limits = limits;
  }

  /** Streams finished calls matching `filter` to `res` until either side closes. */
  attach(res: ServerResponse, filter: TapFilter): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': trellis tap\n\n');
    const client = new TapClient(res, filter, this.#limits, () => {
      this.counts.cut++;
    });
    this.#clients.add(client);
    this.counts.clients = this.#clients.size;
    this.#unsubscribe ??= this.#feed.subscribe(this.#deliver);
    res.on('close', () => {
      client.close();
      this.#clients.delete(client);
      this.counts.clients = this.#clients.size;
      if (this.#clients.size === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
      }
    });
  }

  readonly #deliver = (call: RequestCompletion): void => {
    for (const client of this.#clients) {
      const fate = client.offer(call);
      if (fate === 'dropped') this.counts.dropped++;
      else if (fate === 'sampled') this.counts.sampled++;
    }
  };

  /** Ends every stream. */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const client of this.#clients) client.close();
  }
}
