import type { EventEmitter } from 'eventemitter3';
import type { Balancer } from '../balancers/balancer.js';
import type { Endpoint } from '../discovery/endpoint.js';
import type { Resolver, ResolverSubscription } from '../discovery/resolver.js';
import { UpdateGuard } from '../discovery/update-guard.js';
import { ErrorCode, TrellisError } from '../errors.js';
import type { MeshEvents } from '../mesh/events.js';
import type { Service, ServiceHandle } from '../stack/layer.js';
import type { Stack } from '../stack/stack.js';
import type { TransportOptions } from '../transport/transport-options.js';
import { MeshEndpoint } from './mesh-endpoint.js';

/** A fully validated service configuration, as the builder hands it to the mesh. */
export interface ServiceConfig {
  /** Logical name. */
  name: string;
  /** Other host names that address this service. */
  hosts: readonly string[];
  /** Where the endpoints come from. */
  resolver: Resolver;
  /** The balancer instance for this service. */
  balancer: Balancer;
  /** The layers requests go through. */
  stack: Stack;
  /** Connection settings. */
  transport: TransportOptions;
}

/**
 * One service inside a mesh: keeps the live endpoint set in step with discovery, owns the
 * endpoints' pools, and holds the built request stack.
 */
export class ServiceRuntime implements ServiceHandle {
  readonly name: string;
  readonly balancer: Balancer;
  readonly events: EventEmitter<MeshEvents>;
  /** The built stack: call it with a context to make a request. */
  readonly call: Service;
  readonly #config: ServiceConfig;
  readonly #endpoints = new Map<string, MeshEndpoint>();
  readonly #cleanups: Array<() => void | Promise<void>> = [];
  readonly #draining = new Set<Promise<void>>();
  #subscription: ResolverSubscription | undefined;
  #guard: UpdateGuard | undefined;
  #closed = false;
  /** Drain time for endpoints that leave discovery. */
  readonly #drainTimeoutMs: number;
  readonly #lookup: (name: string) => Service | undefined;

  constructor(
    config: ServiceConfig,
    events: EventEmitter<MeshEvents>,
    drainTimeoutMs: number,
    lookup: (name: string) => Service | undefined = () => undefined,
  ) {
    this.name = config.name;
    this.#lookup = lookup;
    this.balancer = config.balancer;
    this.events = events;
    this.#config = config;
    this.#drainTimeoutMs = drainTimeoutMs;
    this.call = config.stack.build(this);
  }

  /** Starts discovery; the resolver's updates go through an {@link UpdateGuard} (debounce, empty-set grace). */
  start(): void {
    const resolver = this.#config.resolver;
    this.#guard = new UpdateGuard(
      { update: (inputs) => this.#applyUpdate(inputs), error: (err) => this.#reportError(err) },
      this.name,
      resolver.updatePolicy,
    );
    this.#subscription = resolver.resolve(this.#guard, this.name);
  }

  endpoints(): readonly MeshEndpoint[] {
    return [...this.#endpoints.values()];
  }

  onClose(cleanup: () => void | Promise<void>): void {
    this.#cleanups.push(cleanup);
  }

  lookup(name: string): Service | undefined {
    return this.#lookup(name);
  }

  #reportError(err: Error): void {
    const error =
      err instanceof TrellisError
        ? err
        : new TrellisError(
            ErrorCode.DiscoveryFailed,
            `Discovery for '${this.name}' (${this.#config.resolver.description}) failed: ${err.message}. ` +
              'The last known endpoints stay in use.',
            { cause: err, details: { service: this.name } },
          );
    this.events.emit('discoveryError', this.name, error);
  }

  /** Applies a whole update, already validated by the {@link UpdateGuard} (so not parsed again). */
  #applyUpdate(endpoints: readonly Endpoint[]): void {
    if (this.#closed) return;
    const next = new Map<string, Endpoint>();
    for (const endpoint of endpoints) next.set(endpoint.id, endpoint);
    for (const [id, live] of this.#endpoints) {
      if (next.has(id)) continue;
      this.#endpoints.delete(id);
      this.#drain(live);
    }
    for (const endpoint of next.values()) {
      const live = this.#endpoints.get(endpoint.id);
      if (live) live.endpoint = endpoint;
      else this.#endpoints.set(endpoint.id, new MeshEndpoint(endpoint, this.#config.transport, this.name));
    }
    this.balancer.update([...this.#endpoints.values()]);
    this.events.emit('endpoints', this.name, [...next.values()]);
  }

  #drain(endpoint: MeshEndpoint): void {
    // Never used: nothing to wait for (saves thousands of promises when a large set shrinks).
    if (!endpoint.connected) {
      endpoint.state = 'draining';
      return;
    }
    const done = endpoint.close(this.#drainTimeoutMs).finally(() => this.#draining.delete(done));
    this.#draining.add(done);
  }

  /** Stops discovery, lets requests in flight finish for up to `timeoutMs`, and closes every pool. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#subscription?.close();
    this.#guard?.close();
    const endpoints = [...this.#endpoints.values()];
    this.#endpoints.clear();
    this.balancer.update([]);
    await Promise.all([...endpoints.map((ep) => ep.close(timeoutMs)), ...this.#draining]);
    for (const cleanup of this.#cleanups.splice(0)) await cleanup();
  }
}
