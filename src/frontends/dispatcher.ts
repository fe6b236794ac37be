import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { stringify } from 'node:querystring';
import { Agent, Dispatcher, errors, getGlobalDispatcher } from 'undici';
import { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { OptionProblems } from '../core/validate.js';
import type { ServiceRuntime } from '../service/service-runtime.js';
import { HandlerBridge } from './handler-bridge.js';
import { checkDispatchOptions, checkDispatchTarget } from './request-options.js';

/** How the dispatcher reaches the mesh: find a service by host, and know whether the mesh is open. */
export interface ServiceDirectory {
  /** The mesh route an origin addresses, or undefined for an origin outside the mesh. */
  routeForOrigin(origin: string | URL): MeshRoute | undefined;
  /** Throws `TRELLIS_MESH_CLOSED` once the mesh is closed. */
  assertOpen(): void;
  /** A service name one typo away from `host`, if any (for the pass-through DNS failure message). */
  suggestService(host: string): string | undefined;
}

/**
 * The pass-through agent's DNS lookup: a host that does not resolve and is one typo away from a
 * mesh service (`http://user/x` in a mesh with `users`) fails with a TrellisError saying so, with
 * DNS's error as its cause. Runs once per new connection, never per request.
 */
function lookupWithSuggestion(directory: ServiceDirectory): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, options, (err, ...rest) => {
      const unknown = err?.code === 'ENOTFOUND' || err?.code === 'EAI_AGAIN';
      const suggestion = unknown ? directory.suggestService(hostname) : undefined;
      if (suggestion === undefined) return (callback as (...args: unknown[]) => void)(err, ...rest);
      const error = new TrellisError(
        ErrorCode.UnknownService,
        `'${hostname}' is not a mesh service and DNS could not resolve it (${err!.message}): did you mean the ` +
          `mesh service '${suggestion}'? Write http://${suggestion}/... to send it through the mesh.`,
        { cause: err, details: { service: hostname, suggestion } },
      );
      (callback as (err: Error) => void)(error);
    });
  };
}

/** A mesh service an origin addresses, and whether the origin may be carried to it. */
export interface MeshRoute {
  /** The service. */
  readonly service: ServiceRuntime;
  /** The origin is `https:` but the service's transport is plain HTTP: refuse, never send plaintext. */
  readonly tlsRequired: boolean;
}

/**
 * The path with `query` appended exactly as undici appends it (`node:querystring`'s `stringify`,
 * refused when the path already has a query or fragment), so a request means the same on a mesh
 * route as on a pass-through host.
 */
function withQuery(path: string, query: Record<string, unknown> | undefined): string {
  if (query === undefined) return path;
  if (path.includes('?') || path.includes('#')) {
    throw new TrellisError(
      ErrorCode.InvalidRequest,
      `${path}: query params cannot be given when the path already has "?" or "#" (undici refuses it too); ` +
        'put the whole query in one of the two.',
    );
  }
  const search = stringify(query as Parameters<typeof stringify>[0]);
  return search === '' ? path : `${path}?${search}`;
}

/**
 * A plain `Agent` (undici's default global dispatcher, or Node's built-in fetch's) routes
 * nothing: the mesh's own agent does the same and can also name the mesh service a mistyped
 * host meant. A custom Agent is kept by passing it as `passthrough`.
 */
function isPlainAgent(dispatcher: Dispatcher): boolean {
  return dispatcher.constructor.name === 'Agent';
}

/** Options of `mesh.dispatcher(options)`. */
export interface MeshDispatcherOptions {
  /**
   * Where requests for hosts outside the mesh go (a `ProxyAgent`, an `Agent` with your TLS or
   * connect options, ...). The mesh never closes it: it is yours. By default, the undici global
   * dispatcher installed when the mesh dispatcher was created, unless that is a plain `Agent`
   * (then the mesh uses an agent of its own).
   */
  passthrough?: Dispatcher;
}

type ConnectionEvent = 'connect' | 'disconnect' | 'connectionError';
let create!: (directory: ServiceDirectory, options?: MeshDispatcherOptions) => MeshDispatcher;
let emit!: (
  dispatcher: MeshDispatcher,
  event: ConnectionEvent,
  origin: URL,
  targets: readonly Dispatcher[],
  error?: Error,
) => void;

/**
 * Emits undici's connection event (`connect`, `disconnect`, `connectionError`) on `dispatcher`
 * for a connection of a mesh endpoint's pool, with the dispatcher first in `targets`, as undici's
 * Agent puts itself before its pools.
 */
export function emitConnection(
  dispatcher: MeshDispatcher,
  event: ConnectionEvent,
  origin: URL,
  targets: readonly Dispatcher[],
  error?: Error,
): void {
  emit(dispatcher, event, origin, targets, error);
}

/** A dispatcher for the mesh behind `directory` (`mesh.dispatcher()`; the constructor is private). */
export function createDispatcher(
  directory: ServiceDirectory,
  options?: MeshDispatcherOptions,
): MeshDispatcher {
  return create(directory, options);
}

/**
 * An undici `Dispatcher` that sends requests for mesh services through the mesh and everything
 * else, untouched, to the pass-through dispatcher: the one given as `passthrough`, else undici's
 * global dispatcher as it was when this one was created (so a `ProxyAgent`, `EnvHttpProxyAgent` or
 * composed dispatcher installed before the mesh keeps carrying outside traffic), else, when that
 * is a plain `Agent`, an agent of the mesh's own. Pass it to `setGlobalDispatcher` to
 * route every `fetch` in the process, or as the `dispatcher` option of undici calls.
 */
export class MeshDispatcher extends Dispatcher {
  readonly #directory: ServiceDirectory;
  /** The pass-through dispatcher; undefined until first use when the mesh makes its own. */
  #passthrough: Dispatcher | undefined;
  /** Whether the mesh made the pass-through agent (and so closes it). */
  readonly #ownsPassthrough: boolean;
  /** Set by the first close() or destroy(): the pass-through agent's end. */
  #ending: Promise<void> | undefined;
  #destroyed = false;
  /** Re-emit the pass-through dispatcher's connection events as this dispatcher's (made once). */
  readonly #forwardConnect = (origin: URL, targets: readonly Dispatcher[]): void => {
    this.#emitConnection('connect', origin, targets);
  };
  readonly #forwardDisconnect = (origin: URL, targets: readonly Dispatcher[], error: Error): void => {
    this.#emitConnection('disconnect', origin, targets, error);
  };
  readonly #forwardConnectionError = (origin: URL, targets: readonly Dispatcher[], error: Error): void => {
    this.#emitConnection('connectionError', origin, targets, error);
  };

  static {
    create = (directory, options) => new MeshDispatcher(directory, options);
    emit = (dispatcher, event, origin, targets, error) =>
      dispatcher.#emitConnection(event, origin, targets, error);
  }

  /** Made by `mesh.dispatcher()`. */
  private constructor(directory: ServiceDirectory, options: MeshDispatcherOptions = {}) {
    super();
    this.#directory = directory;
    const problems = new OptionProblems('dispatcher', options, ['passthrough']);
    const given = options.passthrough;
    if (given !== undefined && typeof (given as Partial<Dispatcher>).dispatch !== 'function')
      problems.add('passthrough must be an undici Dispatcher (an object with a dispatch method)');
    problems.throwIfAny();
    // This mesh's own dispatcher installed globally (then a second one made) would loop.
    const global = getGlobalDispatcher();
    const own = global instanceof MeshDispatcher && global.#directory === directory;
    const inherited = own || isPlainAgent(global) ? undefined : global;
    this.#passthrough = given ?? inherited;
    this.#ownsPassthrough = this.#passthrough === undefined;
    if (this.#passthrough !== undefined) this.#listenTo(this.#passthrough);
  }

  /** The dispatcher for hosts outside the mesh (see {@link MeshDispatcherOptions.passthrough}). */
  get passthrough(): Dispatcher {
    return this.#passthrough ?? this.#ownAgent();
  }

  #ownAgent(): Dispatcher {
    const agent = new Agent({ connect: { lookup: lookupWithSuggestion(this.#directory) } });
    this.#passthrough = agent;
    this.#listenTo(agent);
    return agent;
  }

  #listenTo(passthrough: Dispatcher): void {
    passthrough
      .on('connect', this.#forwardConnect)
      .on('disconnect', this.#forwardDisconnect)
      .on('connectionError', this.#forwardConnectionError);
  }

  /** Stops re-emitting the pass-through dispatcher's events (it may be shared and outlive us). */
  #stopListening(): void {
    this.#passthrough
      ?.off('connect', this.#forwardConnect)
      .off('disconnect', this.#forwardDisconnect)
      .off('connectionError', this.#forwardConnectionError);
  }

  /**
   * Emits undici's connection event (`connect`, `disconnect`, `connectionError`) for a
   * connection of a mesh endpoint's pool or of the pass-through dispatcher, with this dispatcher
   * first in `targets`, as undici's Agent puts itself before its pools.
   */
  #emitConnection(
    event: 'connect' | 'disconnect' | 'connectionError',
    origin: URL,
    targets: readonly Dispatcher[],
    error?: Error,
  ): void {
    if (this.listenerCount(event) === 0) return;
    const chain = [this, ...targets];
    if (event === 'connect') this.emit('connect', origin, chain);
    else if (event === 'disconnect') this.emit('disconnect', origin, chain, error as errors.UndiciError);
    else this.emit('connectionError', origin, chain, error as errors.UndiciError);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const route = options.origin === undefined ? undefined : this.#directory.routeForOrigin(options.origin);
    if (route === undefined) {
      if (this.#ending === undefined) return this.passthrough.dispatch(options, handler);
      // Closed: refused as undici's closed dispatchers refuse, even when the pass-through is not ours.
      new HandlerBridge(handler).fail(
        this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError(),
      );
      return false;
    }
    const service = route.service;
    const bridge = new HandlerBridge(handler);
    try {
      this.#directory.assertOpen();
      if (route.tlsRequired) {
        throw new TrellisError(
          ErrorCode.TlsRequired,
          `${options.method} ${String(options.origin)}${options.path}: the request asked for TLS (https:) but ` +
            `service '${service.name}' has a plain-HTTP transport, and the mesh never sends an https: request ` +
            `in plaintext. Give the service transport({ tls: ... }) or use http://${service.name}.`,
          { details: { service: service.name, origin: String(options.origin) } },
        );
      }
      if (options.upgrade || options.method === 'CONNECT') {
        throw new TrellisError(
          ErrorCode.Unsupported,
          `${options.method} ${service.name}${options.path}: upgrades and CONNECT are not carried by the mesh; ` +
            'use a plain undici Agent for them.',
        );
      }
      checkDispatchTarget(service.name, options.method, options.path);
      checkDispatchOptions(service.name, options);
      const ctx = new RequestContext({
        service: service.name,
        method: options.method,
        path: withQuery(options.path, options.query),
        headers: options.headers as RequestContext['headers'],
        body: options.body as RequestContext['body'],
        signal: bridge,
        // undici's "can be safely retried": the mesh's retry layer reads it the same way.
        idempotent: typeof options.idempotent === 'boolean' ? options.idempotent : undefined,
      });
      ctx.relay = true;
      // undici's per-request options, carried to the endpoint's pool as the caller gave them.
      if (options.headersTimeout != null) ctx.headersTimeout = options.headersTimeout;
      if (options.bodyTimeout != null) ctx.bodyTimeout = options.bodyTimeout;
      if (options.reset === true) ctx.reset = true;
      if (options.blocking != null) ctx.blocking = options.blocking;
      if (options.expectContinue === true) ctx.expectContinue = true;
      if (options.typeOfService != null) ctx.typeOfService = options.typeOfService;
      bridge.start();
      bridge.deliver(service.call(ctx));
    } catch (err) {
      bridge.fail(err as Error);
    }
    return true;
  }

  /**
   * Stops passing requests through and closes the pass-through agent after its requests finish,
   * when the mesh made it (a given or inherited pass-through dispatcher is left open); calls
   * `callback` when done, as undici does.
   */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    // Once closing or destroyed, every later close() waits for that (undici's agent would reject).
    if (this.#ending === undefined && !this.#ownsPassthrough) this.#stopListening();
    this.#ending ??= (this.#ownsPassthrough ? this.#passthrough?.close() : undefined) ?? Promise.resolve();
    const closed = this.#ending;
    if (callback === undefined) return closed;
    closed.then(
      () => callback(),
      () => callback(),
    );
  }

  /**
   * Stops passing requests through and destroys the pass-through agent at once, when the mesh
   * made it; calls `callback` when done, as undici does.
   */
  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    const done = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const destroyed =
      (this.#ownsPassthrough ? this.#passthrough?.destroy(err) : undefined) ?? Promise.resolve();
    this.#destroyed = true;
    this.#ending = destroyed;
    if (done === undefined) return destroyed;
    destroyed.then(
      () => done(),
      () => done(),
    );
  }
}
