import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
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
  /** The service an origin addresses, or undefined for a host outside the mesh. */
  serviceForOrigin(origin: string | URL): ServiceRuntime | undefined;
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

function withQuery(path: string, query: Record<string, unknown> | undefined): string {
  if (query === undefined) return path;
  const search = new URLSearchParams(query as Record<string, string>).toString();
  if (search === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${search}`;
}

/**
 * An undici `Dispatcher` that sends requests for mesh services through the mesh and everything
 * else, untouched, through an ordinary undici `Agent`. Pass it to `setGlobalDispatcher` to route
 * every `fetch` in the process, or as the `dispatcher` option of undici calls.
 */
export class MeshDispatcher extends Dispatcher {
  readonly #directory: ServiceDirectory;
  #passthrough: Agent | undefined;

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
    const service =
      options.origin === undefined ? undefined : this.#directory.serviceForOrigin(options.origin);
    if (service === undefined) return this.passthrough.dispatch(options, handler);
    const bridge = new HandlerBridge(handler);
    try {
      this.#directory.assertOpen();
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
      bridge.start();
      bridge.deliver(service.call(ctx));
    } catch (err) {
      bridge.fail(err as Error);
    }
    return true;
  }

  override async close(): Promise<void> {
    await this.#passthrough?.close();
  }

  override async destroy(): Promise<void> {
    await this.#passthrough?.destroy();
  }
}
