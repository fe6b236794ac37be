import { Client, Dispatcher, errors } from 'undici';
import { DispatchQueue } from './dispatch-queue.js';
import { tenantFor } from './foreign-tenant.js';

/**
 * A dispatch handler of the mesh's own (`ResponseHandler`, `RelayBody`) that tells its
 * connection the moment its answer is over, so the pool can reuse that connection at once.
 * `connection` is `null` until the pool puts the handler on one.
 */
export interface ConnectionTenant {
  connection: PooledConnection | null;
}

/** Hands the tenant's connection back to its pool, once (later calls do nothing). */
export function leaveConnection(tenant: ConnectionTenant): void {
  const connection = tenant.connection;
  if (connection === null) return;
  tenant.connection = null;
  connection.released();
}

function isTenant(handler: object): handler is ConnectionTenant {
  return (handler as Partial<ConnectionTenant>).connection === null;
}

/** One undici `Client` (one connection) of a {@link ConnectionPool}, and the requests it carries. */
export class PooledConnection {
  /** Requests dispatched here that have not ended. */
  inflight = 0;
  /** True while the connection is on the pool's stack of connections with room. */
  stacked = false;
  /** True once the pool dropped it (its connection failed, or the pool was destroyed). */
  retired = false;
  /** Undici answered `false` to a dispatch, so it takes no more until its `drain` (HTTP/2, pipelining). */
  saturated = false;

  constructor(
    readonly pool: ConnectionPool,
    readonly client: Client,
  ) {}

  /** A request on this connection ended (its handler's end, error or upgrade). */
  released(): void {
    this.inflight--;
    this.pool.offer(this);
  }
}

/** Connection settings of a {@link ConnectionPool}: undici `Client` options, plus the cap. */
export interface ConnectionPoolOptions extends Client.Options {
  /** Most connections the pool opens. */
  readonly connections: number;
}

/**
 * An endpoint's keep-alive connections, as undici `Client`s, handing each request to the
 * connection that was freed last (a stack: Go's `http.Transport` also reuses the most recently
 * used idle connection). undici's `Pool` instead scans its clients for the first one not busy, and takes a
 * client back only a full event-loop turn after its answer ended (when the client emits `drain`),
 * so a closed loop of requests keeps a few dozen connections in rotation, each one cold. Here a
 * mesh handler hands its connection back the moment the answer ends, and the next request goes
 * out on that same connection: the one whose socket, parser and buffers are still in cache
 * (bench/RESULTS.md, thirteenth session). Connections that stay at the bottom of the stack go
 * idle and close after the keep-alive timeout.
 *
 * The client still guards the reuse: undici writes a request on a used idle socket only after
 * a check phase, so a close or reset the server already sent is seen first. Handlers that are not
 * the mesh's (a health check's `request()`) are wrapped to say when they end. On HTTP/2 and with
 * pipelining, a connection also takes no more requests after undici answers `false`, until its
 * `drain`, as in undici's `Pool`.
 * Requests beyond every connection's room wait in the pool, in order, as in undici's `Pool`.
 */
export class ConnectionPool extends Dispatcher {
  readonly #origin: string;
  readonly #url: URL;
  readonly #options: Client.Options;
  readonly #max: number;
  /** Requests one connection carries at once: the pipelining depth, or unbounded on HTTP/2. */
  readonly #perConnection: number;
  /**
   * Whether undici's `false` from a dispatch also closes a connection until its `drain` (HTTP/2,
   * pipelining): there undici knows more than a count (a request that must not be pipelined).
   * One request per connection, the default, is tracked by the count alone, which lets the
   * connection be reused the moment its answer ends.
   */
  readonly #honoursBusy: boolean;
  readonly #all: PooledConnection[] = [];
  /** Connections with room, the one freed last on top. */
  readonly #stack: PooledConnection[] = [];
  /** Requests waiting for room; the mesh's own leave it the moment they are cancelled. */
  readonly #waiting = new DispatchQueue();
  #needDrain = false;
  #closing: Promise<void> | undefined = undefined;
  #closeWaiting: (() => void) | undefined = undefined;
  #destroyed = false;
  /** Whether a pump of the waiting requests is scheduled. */
  #pumping = false;
  readonly #pump = (): void => {
    this.#pumping = false;
    this.#sendWaiting();
  };

  /**
   * @param origin - the origin every request carries (`https://service` in a mesh; the client's
   *   `connect` function dials the endpoint itself)
   * @param options - undici `Client` options, with the connection cap
   */
  constructor(origin: string, { connections, ...options }: ConnectionPoolOptions) {
    super();
    this.#origin = origin;
    this.#url = new URL(origin);
    this.#options = options;
    this.#max = connections;
    const multiplexed = origin.startsWith('https:') && options.allowH2 === true;
    this.#perConnection = multiplexed ? Number.POSITIVE_INFINITY : (options.pipelining ?? 1);
    this.#honoursBusy = this.#perConnection > 1;
  }

  /** Whether the pool was closed or destroyed. */
  get closed(): boolean {
    return this.#closing !== undefined || this.#destroyed;
  }

  /** Whether the pool was destroyed. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Connections opened or being opened (never more than the cap). */
  get connections(): number {
    return this.#all.length;
  }

  /** Requests waiting for room on a connection. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Sends the request on the connection freed last, or opens one, or holds the request until a
   * connection has room. Answers `false` when the next request would have to wait (undici's
   * contract: the pool emits `drain` when there is room again).
   */
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (handler === null || typeof handler !== 'object') {
      throw new errors.InvalidArgumentError('handler must be an object');
    }
    if (this.#closing !== undefined || this.#destroyed) {
      refuse(handler, this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError());
      return false;
    }
    const connection = this.#waiting.length > 0 ? undefined : this.#take();
    if (connection === undefined) {
      this.#waiting.push(options, handler);
      this.#needDrain = true;
      return false;
    }
    this.#send(connection, options, handler);
    this.#needDrain = this.#stack.length === 0 && this.#all.length >= this.#max;
    return !this.#needDrain;
  }

  /** A connection may have room again: the waiting requests get it first, then the stack. */
  offer(connection: PooledConnection): void {
    if (!this.#restack(connection)) return;
    // Sent a microtask later: this runs inside undici's parser callback for the answer that
    // just ended, and the connection is reused once the parser is done with it.
    if (this.#waiting.length > 0) this.#schedulePump();
    else this.#announceRoom();
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#waiting.length > 0) this.#closeWaiting = resolve;
      else resolve();
    }).then(() => Promise.all(this.#all.map((c) => c.client.close())).then(() => undefined));
    if (callback === undefined) return this.#closing;
    this.#closing.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(
    errOrCallback?: Error | null | (() => void),
    maybeCallback?: () => void,
  ): Promise<void> | void {
    const callback = typeof errOrCallback === 'function' ? errOrCallback : maybeCallback;
    const err =
      (typeof errOrCallback === 'function' ? null : errOrCallback) ?? new errors.ClientDestroyedError();
    this.#destroyed = true;
    for (let entry = this.#waiting.shift(); entry !== undefined; entry = this.#waiting.shift())
      refuse(entry.handler, err);
    this.#closeWaiting?.();
    this.#stack.length = 0;
    const all = this.#all.splice(0);
    for (const connection of all) connection.retired = true;
    const done = Promise.all(all.map((c) => c.client.destroy(err))).then(() => undefined);
    if (callback === undefined) return done;
    done.then(callback, callback);
  }

  /** Puts a connection with room back on top of the stack; false if it has none or is there. */
  #restack(connection: PooledConnection): boolean {
    if (connection.stacked || !this.#hasRoom(connection)) return false;
    connection.stacked = true;
    this.#stack.push(connection);
    return true;
  }

  #hasRoom(connection: PooledConnection): boolean {
    return !connection.retired && !connection.saturated && connection.inflight < this.#perConnection;
  }

  /** The connection freed last that has room, or a new one while under the cap. */
  #take(): PooledConnection | undefined {
    const stack = this.#stack;
    while (stack.length > 0) {
      const connection = stack.pop() as PooledConnection;
      connection.stacked = false;
      if (this.#hasRoom(connection)) return connection;
    }
    return this.#all.length < this.#max ? this.#open() : undefined;
  }

  #send(
    connection: PooledConnection,
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): void {
    const inflight = ++connection.inflight;
    let carried: Dispatcher.DispatchHandler;
    if (isTenant(handler)) {
      handler.connection = connection;
      carried = handler;
    } else {
      carried = tenantFor(handler, connection);
    }
    const roomy = connection.client.dispatch(options, carried);
    // A request undici refused at once (invalid options) has already ended: no drain will follow.
    if (!roomy && this.#honoursBusy && connection.inflight === inflight) connection.saturated = true;
    this.#restack(connection);
  }

  #sendWaiting(): void {
    while (this.#waiting.length > 0) {
      const connection = this.#take();
      if (connection === undefined) return;
      const entry = this.#waiting.shift()!;
      this.#send(connection, entry.options, entry.handler);
    }
    if (this.#closeWaiting !== undefined) {
      this.#closeWaiting();
      this.#closeWaiting = undefined;
    } else if (this.#stack.length > 0) {
      this.#announceRoom();
    }
  }

  /** Emits `drain` if a dispatch answered `false` since the last one (there is room now). */
  #announceRoom(): void {
    if (!this.#needDrain) return;
    this.#needDrain = false;
    this.emit('drain', this.#url);
  }

  #schedulePump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    queueMicrotask(this.#pump);
  }

  #open(): PooledConnection {
    const client = new Client(this.#origin, this.#options);
    const connection = new PooledConnection(this, client);
    const targets = (from: readonly Dispatcher[]): Dispatcher[] => [this, ...from];
    client
      .on('connect', (origin, from) => this.emit('connect', origin, targets(from)))
      .on('disconnect', (origin, from, err) => this.emit('disconnect', origin, targets(from), err))
      .on('connectionError', (origin, from, err) => {
        // A connection that could not be made is not reused (as in undici's Pool).
        this.#retire(connection);
        this.emit('connectionError', origin, targets(from), err);
      });
    if (this.#honoursBusy) {
      client.on('drain', () => {
        connection.saturated = false;
        this.offer(connection);
      });
    }
    this.#all.push(connection);
    return connection;
  }

  #retire(connection: PooledConnection): void {
    connection.retired = true;
    const at = this.#all.indexOf(connection);
    if (at >= 0) this.#all.splice(at, 1);
    // A stacked copy is skipped when taken; room under the cap may let a waiting request dial.
    if (this.#waiting.length > 0) this.#schedulePump();
  }
}

/** Fails a handler the pool cannot take, in whichever of undici's handler generations it speaks. */
function refuse(handler: Dispatcher.DispatchHandler, err: Error): void {
  if (typeof handler.onResponseError === 'function') handler.onResponseError(null as never, err);
  else handler.onError?.(err);
}
