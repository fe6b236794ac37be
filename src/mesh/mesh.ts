import { EventEmitter } from 'eventemitter3';
import type { Dispatcher, Response } from 'undici';
import {
  ADMIN_HANDLER_KEYS,
  type AdminHandler,
  type AdminHandlerOptions,
  createAdminHandler,
  refuseUnknownAdminOptions,
} from '../admin/admin-handler.js';
import { type AdminOptions, type AdminServer, startAdminServer } from '../admin/admin-server.js';
import type { AdminSource } from '../admin/admin-source.js';
import type { EndpointSnapshot } from '../core/balancer.js';
import { callNext } from '../core/call-next.js';
import { RequestContext, type RequestContextInit } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { MeshEvents } from '../core/events.js';
import type { Service } from '../core/layer.js';
import { nearMiss } from '../core/near-miss.js';
import { closeStep, openStep } from '../core/step-clock.js';
import { optionKeys, unknownOptions } from '../core/validate.js';
import {
  createDispatcher,
  emitConnection,
  type MeshDispatcher,
  type MeshDispatcherOptions,
  type MeshRoute,
  type ServiceDirectory,
} from '../frontends/dispatcher.js';
import { type FetchInit, type FetchInput, type FetchLike, fetchVia, routeFetch } from '../frontends/fetch.js';
import { claimKeys, originTarget } from '../frontends/origin.js';
import { checkRequestOptions } from '../frontends/request-options.js';
import type { ConnectionListeners } from '../service/mesh-endpoint.js';
import { type ServiceConfig, ServiceRuntime } from '../service/service-runtime.js';
import { isMetricsLayer, METRICS_LAYER, type MetricsLayerReadout } from '../telemetry/metrics-layer.js';
import { MeshConfiguration, planOf } from './builder.js';
import type { MeshOptions } from './mesh-options.js';

/** Options for {@link Mesh.request}: the request, addressed by logical service name. */
export type MeshRequestOptions = RequestContextInit;

/**
 * Configures a {@link Mesh}. Nothing is validated until {@link MeshBuilder.build}, which lists
 * every problem in one error.
 *
 * @example
 * ```ts
 * const mesh = Mesh.builder()
 *   .service('users', (s) => s.discovery(staticEndpoints(['127.0.0.1:3001'])).balancer(roundRobin()))
 *   .build();
 * ```
 */
export class MeshBuilder extends MeshConfiguration {
  /**
   * Validates the whole configuration and starts the mesh (discovery begins at once).
   *
   * @throws {@link TrellisError} `TRELLIS_INVALID_CONFIG` listing every problem found.
   */
  build(): Mesh {
    const { services, options } = planOf(this);
    return createMesh(services, options);
  }
}

/** Set by {@link Mesh}'s static block: its constructor is private to the builder. */
let createMesh!: (services: readonly ServiceConfig[], options: MeshOptions) => Mesh;

const READY_KEYS = optionKeys<ReadyOptions>({ timeout: true });

/** Options for {@link Mesh.ready}. */
export interface ReadyOptions {
  /**
   * How long to wait for every service's first endpoints, in ms.
   *
   * @defaultValue 10000
   */
  timeout?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 10_000;

/** Origin lookups are cached; the cache is dropped when it grows past this many origins. */
const ORIGIN_CACHE_LIMIT = 1024;

/**
 * An in-process service mesh: a set of logical services, each with discovery, a balancer and a
 * stack of layers, reachable through `request()` (the fast path), `fetch()`, a wrapped `fetch`,
 * or an undici dispatcher. Create one with {@link Mesh.builder}.
 *
 * Upstreams see the logical address, as behind a sidecar mesh: requests carry
 * `Host: <service name>` (HTTP/2 `:authority`), whichever front-end or claimed host name sent
 * them, unless the caller sets a `Host` header itself, which is then sent as given. TLS SNI and
 * certificate checks use the endpoint's host unless `transport({ tls: { servername } })` says
 * otherwise.
 */
export class Mesh extends EventEmitter<MeshEvents> {
  readonly #services = new Map<string, ServiceRuntime>();
  readonly #byHost = new Map<string, ServiceRuntime>();
  readonly #byOrigin = new Map<string, MeshRoute | null>();
  /** Services whose transport speaks TLS: an `https:` origin may reach only these. */
  readonly #tlsServices = new Set<ServiceRuntime>();
  readonly #calls = new Map<string, Service>();
  readonly #options: MeshOptions;
  readonly #dispatcher: MeshDispatcher;
  /** Dispatchers made by `dispatcher(options)`, closed with the mesh. */
  readonly #otherDispatchers = new Set<MeshDispatcher>();
  /** Endpoint pools' connection events, re-emitted on every dispatcher of the mesh. */
  readonly #connections: ConnectionListeners = {
    connect: (origin, targets) => this.#emitConnection('connect', origin, targets),
    disconnect: (origin, targets, error) => this.#emitConnection('disconnect', origin, targets, error),
    connectionError: (origin, targets, error) =>
      this.#emitConnection('connectionError', origin, targets, error),
  };
  /** The metrics layer of the services' stacks, if any: the admin endpoint reads it. */
  #metrics: MetricsLayerReadout | undefined;
  readonly #admins = new Set<AdminServer>();
  #closing: Promise<void> | undefined;

  /** Starts configuring a mesh. */
  static builder(): MeshBuilder {
    return new MeshBuilder();
  }

  static {
    createMesh = (services, options) => new Mesh(services, options);
  }

  /** What the dispatcher front-end may ask of the mesh (see `frontends/dispatcher.ts`). */
  readonly #directory: ServiceDirectory = {
    routeForOrigin: (origin) => this.#routeForOrigin(origin),
    suggestService: (host) => this.#suggestService(host),
    assertOpen: () => this.#assertOpen(),
  };

  /** Use {@link Mesh.builder} instead: it validates the configuration this constructor trusts. */
  private constructor(services: readonly ServiceConfig[], options: MeshOptions) {
    super();
    this.#options = options;
    const owners = new Map<string, string>();
    for (const config of services)
      for (const host of [config.name, ...config.hosts]) owners.set(host, config.name);
    const lookup = (name: string) => this.#lookup(owners.get(name.toLowerCase()));
    try {
      for (const config of services) {
        const runtime = new ServiceRuntime(config, this, options.closeTimeoutMs, lookup, this.#connections);
        const metrics = config.stack.get(METRICS_LAYER);
        if (isMetricsLayer(metrics)) this.#metrics ??= metrics;
        this.#services.set(config.name, runtime);
        for (const host of [config.name, ...config.hosts])
          for (const key of claimKeys(host)) this.#byHost.set(key, runtime);
        if (config.transport.tls !== undefined) this.#tlsServices.add(runtime);
      }
    } catch (err) {
      // A layer refused its configuration while the stacks were built (for example routing
      // rules naming an unknown service): release what the services built so far set up.
      for (const runtime of this.#services.values()) void runtime.close(0);
      throw err;
    }
    this.#dispatcher = createDispatcher(this.#directory);
    for (const runtime of this.#services.values()) runtime.start();
  }

  /**
   * A service's whole stack, found when first called (layers look services up while the mesh
   * is still building them). One function per service, so every name of a service gives the
   * same one.
   */
  #lookup(name: string | undefined): Service | undefined {
    if (name === undefined) return undefined;
    let call = this.#calls.get(name);
    if (call === undefined) {
      call = (ctx) => this.#services.get(name)!.call(ctx);
      this.#calls.set(name, call);
    }
    return call;
  }

  /** The logical names of the mesh's services. */
  get services(): string[] {
    return [...this.#services.keys()];
  }

  /**
   * Whether `host` (a logical name or a claimed host name, with or without `:port`) addresses a
   * mesh service. Without a port, the scheme's default port is meant (80 or 443).
   */
  isMeshHost(host: string): boolean {
    return claimKeys(host).some((key) => this.#byHost.has(key));
  }

  /**
   * The mesh route an origin addresses, or undefined for origins outside the mesh. Matched on
   * scheme, host and port (see `frontends/origin.ts`); cached per origin string.
   */
  #routeForOrigin(origin: string | URL): MeshRoute | undefined {
    if (typeof origin !== 'string') return this.#route(origin) ?? undefined;
    let route = this.#byOrigin.get(origin);
    if (route === undefined) {
      if (this.#byOrigin.size >= ORIGIN_CACHE_LIMIT) this.#byOrigin.clear();
      route = this.#route(origin);
      this.#byOrigin.set(origin, route);
    }
    return route ?? undefined;
  }

  #route(origin: string | URL): MeshRoute | null {
    const target = originTarget(origin);
    const service = target === undefined ? undefined : this.#byHost.get(target.key);
    if (service === undefined) return null;
    return { service, tlsRequired: target!.https && !this.#tlsServices.has(service) };
  }

  /** A service name or claimed host one typo away from `host` (a pass-through that DNS does not know). */
  #suggestService(host: string): string | undefined {
    // Claims are kept as `host:port`; a typo is judged on the host alone. Only on a DNS failure.
    const hosts = new Set<string>();
    for (const key of this.#byHost.keys()) hosts.add(key.slice(0, key.lastIndexOf(':')));
    return nearMiss(host.toLowerCase(), hosts);
  }

  /** Throws once the mesh is closed. */
  #assertOpen(): void {
    if (this.#closing) throw this.#closedError();
  }

  /**
   * The fast path: sends a request to a service by logical name and resolves with undici's
   * response (`statusCode`, `headers`, and a streaming `body` that must be consumed or
   * destroyed). Layers that answer on their own must give a readable `body` here.
   *
   * Options are checked before anything is sent: a bad `path`, `method`, `timeout` or `deadline`,
   * or an unknown key, rejects with `TRELLIS_INVALID_REQUEST` naming the field and what to write.
   *
   * @example
   * ```ts
   * const { statusCode, body } = await mesh.request({ service: 'users', path: '/v1/users/42' });
   * const user = await body.json();
   * ```
   */
  request(options: MeshRequestOptions): Promise<Dispatcher.ResponseData> {
    try {
      checkRequestOptions(options as unknown as Readonly<Record<string, unknown>>);
    } catch (err) {
      return Promise.reject(err);
    }
    const service = this.#services.get(options.service);
    if (service === undefined || this.#closing) {
      return Promise.reject(this.#closing ? this.#closedError() : this.#unknownService(options.service));
    }
    // Not relayed, so the transport's answer is undici's own response object. A layer that
    // throws still fails the call as a rejection. The context's deadline and the layers' clock
    // reads share one reading (see `step-clock.ts`).
    openStep();
    try {
      return callNext(service.call, new RequestContext(options)) as Promise<Dispatcher.ResponseData>;
    } finally {
      closeStep();
    }
  }

  /**
   * WHATWG `fetch` through the mesh: `http://users/v1/users/42` goes to the `users` service;
   * other hosts pass through untouched.
   */
  fetch(input: FetchInput, init?: FetchInit): Promise<Response> {
    return fetchVia(this.#dispatcher, input, init);
  }

  /**
   * Wraps an existing `fetch`: requests for mesh hosts go through the mesh, all others through
   * `fetchImpl` exactly as before. The result has the type of `fetchImpl`, so
   * `mesh.wrapFetch(fetch)` drops in wherever Node's built-in `fetch` was used.
   *
   * @typeParam F - the type of the wrapped `fetch` (Node's built-in one, undici's, or any other)
   * @example
   * ```ts
   * const meshFetch = mesh.wrapFetch(fetch);
   * await meshFetch('http://users/v1/users/42'); // through the mesh
   * await meshFetch('https://example.com/');     // through the built-in fetch, untouched
   * ```
   */
  wrapFetch<F extends (input: never, init?: never) => Promise<unknown>>(fetchImpl: F): F {
    // Mesh responses are undici's Response, which has the shape of the global one.
    return routeFetch(
      (url) => this.#routeForOrigin(url) !== undefined,
      this.fetch.bind(this),
      fetchImpl as unknown as FetchLike,
    ) as unknown as F;
  }

  /**
   * An undici `Dispatcher` that routes mesh hosts through the mesh and passes others through.
   * `setGlobalDispatcher(mesh.dispatcher())` makes every `fetch` in the process use the mesh
   * (Node's built-in `fetch` included).
   *
   * Hosts outside the mesh go to the undici global dispatcher that was installed when the mesh
   * was built (a `ProxyAgent` set up before the mesh keeps carrying outside traffic; a plain
   * `Agent` is replaced by the mesh's own), or, with `options.passthrough`, to the dispatcher you
   * give. Without options the mesh's one dispatcher
   * is returned; with options, a new one each call, closed with the mesh. The mesh never closes
   * a pass-through dispatcher it did not make.
   *
   * Like undici's `Agent`, the dispatcher emits `connect`, `disconnect` and `connectionError`
   * for the connections of the mesh's endpoint pools and of the pass-through dispatcher (a shared
   * one, such as the global dispatcher, reports its other users' connections too).
   *
   * @param options - where requests for other hosts go
   * @example
   * ```ts
   * const proxied = mesh.dispatcher({ passthrough: new ProxyAgent('http://proxy.internal:3128') });
   * await request('http://users/v1/users/42', { dispatcher: proxied }); // undici's: through the mesh
   * await request('https://example.com/', { dispatcher: proxied });     // through the proxy
   * ```
   */
  dispatcher(options?: MeshDispatcherOptions): MeshDispatcher {
    if (options === undefined) return this.#dispatcher;
    this.#assertOpen();
    const dispatcher = createDispatcher(this.#directory, options);
    this.#otherDispatchers.add(dispatcher);
    return dispatcher;
  }

  /**
   * Resolves once every service has its first endpoints from discovery. Requests sent before
   * then wait for them within their deadline rather than fail, so awaiting this is optional; it
   * is the place to find out at start-up that a discovery source is wrong.
   *
   * @throws {@link TrellisError} `TRELLIS_NO_ENDPOINTS` (rejects) after `timeout` ms, naming each
   *   service still waiting, its resolver and its latest discovery error (`details.waiting`
   *   lists their names); `TRELLIS_MESH_CLOSED` if the mesh closes first.
   * @example
   * ```ts
   * const mesh = Mesh.builder().service('users', (s) => s.discovery(fileEndpoints('users.json'))).build();
   * await mesh.ready({ timeout: 5000 });
   * ```
   */
  ready(options: ReadyOptions = {}): Promise<void> {
    const unknown = unknownOptions('mesh.ready', options, READY_KEYS);
    if (unknown.length > 0) {
      return Promise.reject(
        new TrellisError(ErrorCode.InvalidRequest, `Invalid options: ${unknown.join('; ')}.`, {
          details: { problems: unknown },
        }),
      );
    }
    const timeout = options.timeout ?? DEFAULT_READY_TIMEOUT_MS;
    if (!(typeof timeout === 'number' && timeout > 0)) {
      return Promise.reject(
        new TrellisError(
          ErrorCode.InvalidRequest,
          `mesh.ready(): timeout must be a number of milliseconds > 0 (for example { timeout: 5000 }), got ${String(timeout)}.`,
        ),
      );
    }
    const arrivals: Promise<void>[] = [];
    for (const runtime of this.#services.values()) {
      const arrival = runtime.firstEndpoints;
      if (arrival !== undefined) arrivals.push(arrival);
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.#notReady(timeout)), timeout);
      void Promise.all(arrivals).then(() => {
        clearTimeout(timer);
        if (this.#closing) reject(this.#closedError());
        else resolve();
      });
    });
  }

  #notReady(timeout: number): TrellisError {
    const waiting = [...this.#services.values()].filter((runtime) => runtime.waitingFor !== undefined);
    return new TrellisError(
      ErrorCode.NoEndpoints,
      `mesh.ready(): after ${timeout} ms, ${waiting.length} service${waiting.length === 1 ? ' has' : 's have'} ` +
        `no endpoints yet: ${waiting.map((runtime) => runtime.waitingFor).join(', ')}. Check the discovery ` +
        'sources (the "discoveryError" event reports each failure), or wait longer.',
      { details: { waiting: waiting.map((runtime) => runtime.name) } },
    );
  }

  #closedError(): TrellisError {
    return new TrellisError(
      ErrorCode.MeshClosed,
      'The mesh is closed: create a new one to make more requests.',
    );
  }

  #emitConnection(
    event: 'connect' | 'disconnect' | 'connectionError',
    origin: URL,
    targets: readonly Dispatcher[],
    error?: Error,
  ): void {
    emitConnection(this.#dispatcher, event, origin, targets, error);
    for (const dispatcher of this.#otherDispatchers)
      emitConnection(dispatcher, event, origin, targets, error);
  }

  /** Per-endpoint state of a service's balancer (in flight, state, weight, latency estimate). */
  snapshot(service: string): EndpointSnapshot[] {
    const runtime = this.#services.get(service);
    if (runtime === undefined) throw this.#unknownService(service);
    return runtime.balancer.snapshot();
  }

  /**
   * Starts the admin endpoint on its own HTTP server, on loopback unless told otherwise:
   * `/` (a live dashboard), `/metrics` (the metrics layer's registry), `/ready`, `/live`,
   * `/services` (endpoints, states, latency estimates, breaker, discovery, golden signals) and
   * `/tap` (finished calls as Server-Sent Events). It shows request paths: keep it on loopback,
   * or pass `allowRemote: true` on purpose. Closed with the mesh.
   *
   * @example
   * ```ts
   * const admin = await mesh.admin({ port: 9990 }); // open admin.url in a browser, or `npx trellis top admin.url`
   * ```
   * @throws {@link TrellisError} `TRELLIS_INVALID_CONFIG` for a non-loopback host without
   *   `allowRemote`, a bad port, or a port already taken.
   */
  async admin(options: AdminOptions = {}): Promise<AdminServer> {
    this.#assertOpen();
    const server = await startAdminServer(this.#adminSource(), options);
    this.#admins.add(server);
    return server;
  }

  /**
   * The admin endpoint as a request handler to mount in a server of your own (see
   * {@link Mesh.admin} for its pages); call its `close()` when done.
   */
  adminHandler(options: AdminHandlerOptions = {}): AdminHandler {
    refuseUnknownAdminOptions('mesh.adminHandler', options, ADMIN_HANDLER_KEYS);
    return createAdminHandler(this.#adminSource(), options);
  }

  #adminSource(): AdminSource {
    const services = this.#services;
    const mesh = this;
    return {
      services: this.services,
      snapshot: (name) => services.get(name)?.balancer.snapshot() ?? [],
      discovery: (name) => services.get(name)?.discovery ?? 'unknown',
      readings: (name) => services.get(name)?.readings,
      events: this,
      metrics: this.#metrics,
      get open() {
        return mesh.#closing === undefined;
      },
    };
  }

  #unknownService(service: string): TrellisError {
    return new TrellisError(
      ErrorCode.UnknownService,
      `Unknown service '${service}'. Known services: ${this.services.join(', ') || 'none'}. ` +
        'Add it with Mesh.builder().service(name, ...).',
      { details: { service } },
    );
  }

  /**
   * Stops taking requests (new ones fail with `TRELLIS_MESH_CLOSED`), stops discovery, lets
   * requests in flight finish, response bodies included, for up to the close timeout
   * (`closeTimeout()`, 10 s by default), then cuts what is left, closes every connection pool and
   * runs the layers' `onClose` cleanups. Nothing the mesh started keeps the process alive after.
   * Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const timeout = this.#options.closeTimeoutMs;
      await Promise.all([...this.#admins].map((admin) => admin.close()));
      await Promise.all([...this.#services.values()].map((service) => service.close(timeout)));
      await Promise.all(
        [this.#dispatcher, ...this.#otherDispatchers].map((dispatcher) => dispatcher.close()),
      );
      this.removeAllListeners();
    })();
    return this.#closing;
  }
}
