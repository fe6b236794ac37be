import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { stringify } from 'node:querystring';
import { Agent, Dispatcher } from 'undici';
import { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { ServiceRuntime } from '../service/service-runtime.js';
import { HandlerBridge } from './handler-bridge.js';
import { checkDispatchTarget } from './request-options.js';

/**
 * @internal How the dispatcher reaches the mesh: find a service by host, and know whether the mesh is open.
 */
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

/** @internal A mesh service an origin addresses, and whether the origin may be carried to it. */
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
 * An undici `Dispatcher` that sends requests for mesh services through the mesh and everything
 * else, untouched, through an ordinary undici `Agent`. Pass it to `setGlobalDispatcher` to route
 * every `fetch` in the process, or as the `dispatcher` option of undici calls.
 */
export class MeshDispatcher extends Dispatcher {
  readonly #directory: ServiceDirectory;
  #passthrough: Agent | undefined;
  /** Set by the first close() or destroy(): the pass-through agent's end. */
  #ending: Promise<void> | undefined;

  /** @internal Created by `mesh.dispatcher()`. */
  constructor(directory: ServiceDirectory) {
    super();
    this.#directory = directory;
  }

  /** The agent for hosts outside the mesh, created on first use. */
  get passthrough(): Agent {
    this.#passthrough ??= new Agent({ connect: { lookup: lookupWithSuggestion(this.#directory) } });
    return this.#passthrough;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const route = options.origin === undefined ? undefined : this.#directory.routeForOrigin(options.origin);
    if (route === undefined) return this.passthrough.dispatch(options, handler);
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
      const ctx = new RequestContext({
        service: service.name,
        method: options.method,
        path: withQuery(options.path, options.query),
        headers: options.headers as RequestContext['headers'],
        body: options.body as RequestContext['body'],
        signal: bridge,
      });
      ctx.relay = true;
      // undici's per-request options, carried to the endpoint's pool as the caller gave them.
      if (options.headersTimeout != null) ctx.headersTimeout = options.headersTimeout;
      if (options.bodyTimeout != null) ctx.bodyTimeout = options.bodyTimeout;
      if (options.reset === true) ctx.reset = true;
      bridge.start();
      bridge.deliver(service.call(ctx));
    } catch (err) {
      bridge.fail(err as Error);
    }
    return true;
  }

  /** Closes the pass-through agent after its requests finish; calls `callback` when done, as undici does. */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    // Once closing or destroyed, every later close() waits for that (undici's agent would reject).
    this.#ending ??= this.#passthrough?.close() ?? Promise.resolve();
    const closed = this.#ending;
    if (callback === undefined) return closed;
    closed.then(
      () => callback(),
      () => callback(),
    );
  }

  /** Destroys the pass-through agent at once; calls `callback` when done, as undici does. */
  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    const done = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const destroyed = this.#passthrough?.destroy(err) ?? Promise.resolve();
    this.#ending = destroyed;
    if (done === undefined) return destroyed;
    destroyed.then(
      () => done(),
      () => done(),
    );
  }
}
