import { Agent, Dispatcher } from 'undici';
import { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { checkDispatchTarget } from '../mesh/request-options.js';
import type { ServiceRuntime } from '../service/service-runtime.js';
import { HandlerBridge } from './handler-bridge.js';

/**
 * @internal How the dispatcher reaches the mesh: find a service by host, and know whether the mesh is open.
 */
export interface ServiceDirectory {
  /** The service an origin addresses, or undefined for a host outside the mesh. */
  serviceForOrigin(origin: string | URL): ServiceRuntime | undefined;
  /** Throws `TRELLIS_MESH_CLOSED` once the mesh is closed. */
  assertOpen(): void;
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
    this.#passthrough ??= new Agent();
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
