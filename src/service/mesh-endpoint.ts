import { buildConnector, type Dispatcher } from 'undici';
import type { Endpoint, EndpointState, EndpointView } from '../core/endpoint.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { Service } from '../core/layer.js';
import { ConnectionPool } from '../transport/connection-pool.js';
import { keepTlsAlert } from '../transport/tls-alert.js';
import type { TransportOptions } from '../transport/transport-options.js';
import { DEFAULT_TRANSPORT } from '../transport/transport-options.js';

const notBuilt: Service = () =>
  Promise.reject(new TrellisError(ErrorCode.InvalidConfig, 'This endpoint has no endpoint stack built.'));

/**
 * Where endpoint pools report their connections (undici's `connect`, `disconnect` and
 * `connectionError` events): the mesh re-emits them on its dispatchers. Made once per mesh.
 */
export interface ConnectionListeners {
  /** A connection to the endpoint was made. */
  readonly connect: (origin: URL, targets: readonly Dispatcher[]) => void;
  /** A connection to the endpoint closed. */
  readonly disconnect: (origin: URL, targets: readonly Dispatcher[], error: Error) => void;
  /** A connection to the endpoint could not be made. */
  readonly connectionError: (origin: URL, targets: readonly Dispatcher[], error: Error) => void;
}

/**
 * A live endpoint of a service: its discovery record, its connection pool (created on first
 * use), the requests in flight to it and its health state. Balancers and layers read these
 * fields on every request, so they are plain properties.
 */
export class MeshEndpoint implements EndpointView {
  /** The latest discovery record (weight, zone and metadata may change while the id stays). */
  endpoint: Endpoint;
  /** Requests sent to this endpoint that have not answered yet (maintained by the balance layer). */
  inflight = 0;
  /** Health and lifecycle state (set through the endpoint stack's handle, and by draining). */
  state: EndpointState = 'active';
  /** Attempts sent here (counted by the balance layer). */
  attempts = 0;
  /** Attempts the endpoint failed (counted by the balance layer). */
  failures = 0;
  /** Bodies the endpoint cut short or stalled (counted in {@link MeshEndpoint.bodyEnded}). */
  bodyFailures = 0;
  /**
   * Share of its full traffic the endpoint should get, in (0, 1]: below 1 while it warms up
   * after joining the set or returning from ejection (slow start). Set by the health layer,
   * honoured by the balancers.
   */
  slowStartFactor = 1;
  /**
   * The endpoint stack built for this endpoint (the layers below `balance`); the service stack's
   * bottom calls it. Set by the service runtime when the endpoint is created.
   */
  call: Service = notBuilt;
  /** Cleanups the endpoint stack's layers registered, run once the endpoint has left the service. */
  readonly #removedHooks: Array<() => void> = [];
  /** Who learns how each body ended: the health layer and the balancer, one listener each at most. */
  readonly #bodyEndListeners: Array<(failed: boolean) => void> = [];
  readonly #transport: TransportOptions;
  readonly #authority: string;
  readonly #connections: ConnectionListeners | undefined;
  #pool: ConnectionPool | undefined = undefined;

  /**
   * @param endpoint - the discovery record
   * @param transport - connection settings for the pool
   * @param authority - the `Host` (HTTP/2 `:authority`) requests carry unless they set one;
   *   the service's logical name in a mesh, the endpoint's `host:port` by default
   * @param connections - told of the pool's connections, if given
   */
  constructor(
    endpoint: Endpoint,
    transport: TransportOptions,
    authority: string = endpoint.id,
    connections?: ConnectionListeners,
  ) {
    this.endpoint = endpoint;
    this.#transport = transport;
    this.#authority = authority;
    this.#connections = connections;
  }

  /** `host:port` identity. */
  get id(): string {
    return this.endpoint.id;
  }

  /** The keep-alive connection pool to this endpoint, created on first use. */
  get pool(): ConnectionPool {
    return this.#pool ?? this.#createPool();
  }

  /** Whether a connection pool has been created. */
  get connected(): boolean {
    return this.#pool !== undefined;
  }

  #createPool(): ConnectionPool {
    const t = this.#transport;
    const tls = t.tls;
    const allowH2 = t.http2 ?? DEFAULT_TRANSPORT.http2;
    const connector = buildConnector({
      ...tls?.connect,
      ...(tls && { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername }),
      allowH2,
      timeout: t.connectTimeout ?? DEFAULT_TRANSPORT.connectTimeout,
    });
    // The pool's origin names the service, so undici sends `Host: <service>` (and HTTP/2
    // `:authority`) for free, as a sidecar mesh would; the connector dials the endpoint itself.
    // TLS SNI and certificate checks still default to the endpoint's host (see TransportTls).
    const { host, port, id } = this.endpoint;
    const dial: buildConnector.connector = (options, callback) =>
      connector({ ...options, hostname: host, host: id, port: String(port) }, (...connected) => {
        if (tls && connected[0] === null) keepTlsAlert(connected[1]);
        callback(...connected);
      });
    this.#pool = new ConnectionPool(`${tls ? 'https' : 'http'}://${this.#authority}`, {
      connections: t.connections ?? DEFAULT_TRANSPORT.connections,
      pipelining: t.pipelining ?? DEFAULT_TRANSPORT.pipelining,
      allowH2,
      keepAliveTimeout: t.keepAliveTimeout ?? DEFAULT_TRANSPORT.keepAliveTimeout,
      // The idle limit is undici's own per-request headers and body timers: no cost per request.
      headersTimeout: t.idleTimeout ?? DEFAULT_TRANSPORT.idleTimeout,
      bodyTimeout: t.idleTimeout ?? DEFAULT_TRANSPORT.idleTimeout,
      connect: dial,
    });
    const connections = this.#connections;
    if (connections !== undefined) {
      this.#pool
        .on('connect', connections.connect)
        .on('disconnect', connections.disconnect)
        .on('connectionError', connections.connectionError);
    }
    return this.#pool;
  }

  bodyEnded(failed: boolean): void {
    if (failed) this.bodyFailures++;
    const listeners = this.#bodyEndListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!(failed);
  }

  /** Registers a listener to how each response body from this endpoint ends (see `bodyEnded`). */
  onBodyEnd(listener: (failed: boolean) => void): void {
    this.#bodyEndListeners.push(listener);
  }

  /** Registers cleanup to run once the endpoint has left the service. */
  onRemoved(cleanup: () => void): void {
    this.#removedHooks.push(cleanup);
  }

  /** Marks the endpoint as leaving (it takes no new requests) without waiting for anything. */
  markDraining(): void {
    this.state = 'draining';
    for (const cleanup of this.#removedHooks.splice(0)) cleanup();
  }

  /**
   * Stops taking new requests, lets those in flight finish for up to `timeoutMs`, then destroys
   * whatever is left. Resolves when every socket is closed.
   */
  async close(timeoutMs: number): Promise<void> {
    this.markDraining();
    const pool = this.#pool;
    if (!pool) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'expired');
    });
    const outcome = await Promise.race([pool.close().then(() => 'closed' as const), expired]);
    clearTimeout(timer);
    if (outcome === 'expired') await pool.destroy();
  }
}
