import type { EventEmitter } from 'eventemitter3';
import type { Balancer } from '../core/balancer.js';
import type { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { MeshEvents } from '../core/events.js';
import { dispatching } from '../core/fused-run.js';
import type { Service } from '../core/layer.js';
import type { ServiceReadings } from '../core/service-readings.js';
import type { Stack } from '../core/stack.js';
import type { Endpoint } from '../discovery/endpoint.js';
import type { Resolver, ResolverSubscription } from '../discovery/resolver.js';
import { SLICE_MS } from '../discovery/time-slice.js';
import { UpdateGuard } from '../discovery/update-guard.js';
import type { TransportOptions } from '../transport/transport-options.js';
import { type EndpointOwner, EndpointRuntimeHandle } from './endpoint-handle.js';
import { type EndpointSetChange, EndpointSetDiff, EndpointSetPatch } from './endpoint-set-diff.js';
import { FirstEndpoints } from './first-endpoints.js';
import { type ConnectionListeners, MeshEndpoint } from './mesh-endpoint.js';

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
 * The bottom of a service stack that has an endpoint stack: the chosen endpoint's own stack. The
 * service's run of intercepting layers continues into the endpoint's in the same step.
 */
const toEndpointStack: Service = dispatching((ctx) => (ctx.endpoint as MeshEndpoint).call);

/**
 * One service inside a mesh: keeps the live endpoint set in step with discovery, owns the
 * endpoints' pools, and holds the built request stacks: the service stack (the layers down to
 * `balance`, built once) and an endpoint stack (the layers below `balance`) built for each
 * endpoint as discovery adds it.
 */
export class ServiceRuntime implements EndpointOwner {
  readonly name: string;
  readonly balancer: Balancer;
  readonly events: EventEmitter<MeshEvents>;
  /** What the layers publish of their state (retry budget, rules in force). */
  readonly readings: ServiceReadings = { retryBudget: undefined, rules: undefined };
  /** The built stack: call it with a context to make a request. */
  readonly call: Service;
  readonly #config: ServiceConfig;
  /** The live endpoints by id (while a diff runs, it takes the kept ones out of this index). */
  #endpoints = new Map<string, MeshEndpoint>();
  /** The live endpoints in discovery order, as the balancer has them; replaced, never mutated. */
  #list: readonly MeshEndpoint[] = [];
  /** The update being diffed (a whole set) or patched (keyed changes), if any. */
  #diff: EndpointSetDiff | EndpointSetPatch | undefined;
  /** The newest whole set that arrived while another update was being applied: applied next. */
  #queued: readonly Endpoint[] | undefined;
  /** Keyed changes that arrived meanwhile (after `#queued`, if both), merged by id: applied next. */
  #queuedChanges: Map<string, Endpoint | null> | undefined;
  readonly #cleanups: Array<() => void | Promise<void>> = [];
  readonly #addedHooks: Array<(endpoint: MeshEndpoint) => void> = [];
  /** Service-wide layers told when an endpoint cuts a body short or stalls it (the breaker). */
  readonly #bodyFailureListeners: Array<() => void> = [];
  readonly #draining = new Set<Promise<void>>();
  #subscription: ResolverSubscription | undefined;
  #guard: UpdateGuard | undefined;
  #closed = false;
  /** The wait for the first endpoints; dropped once they arrive. */
  #first: FirstEndpoints | undefined;
  /** Drain time for endpoints that leave discovery. */
  readonly #drainTimeoutMs: number;
  readonly #lookup: (name: string) => Service | undefined;
  /** The layers below `balance`, built for each endpoint; `undefined` when the stack has no balance layer. */
  readonly #endpointStack: Stack | undefined;
  /** Whether a balancer refresh is already queued for the status changes of this turn. */
  #refreshQueued = false;
  readonly #connections: ConnectionListeners | undefined;

  constructor(
    config: ServiceConfig,
    events: EventEmitter<MeshEvents>,
    drainTimeoutMs: number,
    lookup: (name: string) => Service | undefined = () => undefined,
    connections?: ConnectionListeners,
  ) {
    this.name = config.name;
    this.#connections = connections;
    this.#lookup = lookup;
    this.balancer = config.balancer;
    this.events = events;
    this.#config = config;
    this.#drainTimeoutMs = drainTimeoutMs;
    const { service, endpoint } = config.stack.split();
    this.#endpointStack = endpoint;
    this.#first = new FirstEndpoints(config.name, config.resolver.description);
    this.call = endpoint === undefined ? service.build(this) : service.build(this, toEndpointStack);
  }

  /** Starts discovery; the resolver's updates go through an {@link UpdateGuard} (debounce, empty-set grace). */
  start(): void {
    const resolver = this.#config.resolver;
    this.#guard = new UpdateGuard(
      {
        update: (records) => this.#applyUpdate(records),
        change: (changes) => this.#applyChanges(changes),
        error: (err) => this.#reportError(err),
      },
      this.name,
      resolver.updatePolicy,
    );
    this.#subscription = resolver.resolve(this.#guard, this.name);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The discovery source, as its resolver describes itself (for the admin endpoint). */
  get discovery(): string {
    return this.#config.resolver.description;
  }

  endpoints(): readonly MeshEndpoint[] {
    return this.#list;
  }

  waitForFirstEndpoints(ctx: RequestContext): Promise<void> | undefined {
    return this.#first?.wait(ctx);
  }

  /** Resolves once discovery has published the first endpoints (or the service closes); undefined once it has. */
  get firstEndpoints(): Promise<void> | undefined {
    return this.#first?.arrival;
  }

  /** Why the service is still waiting for its first endpoints (resolver, latest error); undefined once it is not. */
  get waitingFor(): string | undefined {
    return this.#first?.describe();
  }

  onClose(cleanup: () => void | Promise<void>): void {
    this.#cleanups.push(cleanup);
  }

  onEndpointAdded(hook: (endpoint: MeshEndpoint) => void): void {
    this.#addedHooks.push(hook);
  }

  onBodyFailure(listener: () => void): void {
    this.#bodyFailureListeners.push(listener);
  }

  /**
   * An endpoint cut a body short or stalled it after answering below 500. The balancer learned
   * from the headers: this is a failed sample too (which the load metric prices at twice its
   * estimate at least). Service-wide layers (the breaker) hear of it as well.
   */
  #bodyFailed(endpoint: MeshEndpoint): void {
    this.balancer.observe?.(endpoint, 0, false);
    for (const listener of this.#bodyFailureListeners) listener();
  }

  lookup(name: string): Service | undefined {
    return this.#lookup(name);
  }

  /**
   * An endpoint stack's layer changed an endpoint's status (ejected, returned, warming up): the
   * balancer re-reads the set once, after the current turn, however many endpoints changed in it.
   */
  statusChanged(): void {
    if (this.#refreshQueued) return;
    this.#refreshQueued = true;
    queueMicrotask(this.#refresh);
  }

  readonly #refresh = (): void => {
    this.#refreshQueued = false;
    if (!this.#closed) this.balancer.update(this.#list);
  };

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
    this.#first?.failed(error);
    this.events.emit('discoveryError', this.name, error);
  }

  /**
   * Applies a whole update, already validated by the {@link UpdateGuard} (so not parsed again).
   * The diff runs in slices of about a millisecond (sets of up to 256 endpoints in one); the
   * balancer switches to the new set in one step at the end. An update arriving meanwhile waits
   * and then replaces it, so the newest set always wins and every update finishes.
   */
  #applyUpdate(records: readonly Endpoint[]): void {
    if (this.#closed) return;
    if (this.#diff !== undefined) {
      this.#queued = records;
      this.#queuedChanges = undefined;
      return;
    }
    this.#diff = new EndpointSetDiff(records, this.#endpoints, this.#createEndpoint);
    this.#continueDiff();
  }

  /** Applies keyed changes by id (work proportional to the changes), in slices like a whole set. */
  #applyChanges(changes: Map<string, Endpoint | null>): void {
    if (this.#closed) return;
    if (this.#diff !== undefined) {
      const queued = this.#queuedChanges;
      if (queued === undefined) this.#queuedChanges = changes;
      else for (const [id, record] of changes) queued.set(id, record);
      return;
    }
    this.#diff = new EndpointSetPatch(changes, this.#endpoints, this.#createEndpoint);
    this.#continueDiff();
  }

  readonly #createEndpoint = (record: Endpoint): MeshEndpoint => {
    const endpoint = new MeshEndpoint(record, this.#config.transport, this.name, this.#connections);
    if (this.#endpointStack !== undefined)
      endpoint.call = this.#endpointStack.build(new EndpointRuntimeHandle(this, endpoint));
    endpoint.onBodyEnd((failed) => {
      if (failed) this.#bodyFailed(endpoint);
    });
    for (const hook of this.#addedHooks) hook(endpoint);
    return endpoint;
  };

  readonly #continueDiff = (): void => {
    const diff = this.#diff;
    if (diff === undefined || this.#closed) return;
    if (!diff.step(SLICE_MS)) {
      setImmediate(this.#continueDiff);
      return;
    }
    this.#diff = undefined;
    this.#commit(diff.result());
    const queued = this.#queued;
    const changes = this.#queuedChanges;
    this.#queued = undefined;
    this.#queuedChanges = undefined;
    if (queued !== undefined) this.#applyUpdate(queued);
    if (changes !== undefined) this.#applyChanges(changes);
  };

  /** Puts a finished diff in force: one balancer update, then the `endpoints` event. */
  #commit(change: EndpointSetChange): void {
    this.#endpoints = change.byId;
    if (!change.differs) return;
    for (const [endpoint, record] of change.changed) endpoint.endpoint = record;
    for (const endpoint of change.departed) this.#drain(endpoint);
    this.#list = change.list;
    this.balancer.update(change.list);
    if (change.list.length > 0) this.#letWaitersGo();
    this.events.emit('endpoints', this.name, change.records);
  }

  /** The first endpoints are in the balancer, or the service is closing: requests stop waiting. */
  #letWaitersGo(): void {
    this.#first?.arrived();
    this.#first = undefined;
  }

  #drain(endpoint: MeshEndpoint): void {
    // Never used: nothing to wait for (saves thousands of promises when a large set shrinks).
    if (!endpoint.connected) {
      endpoint.markDraining();
      return;
    }
    const done = endpoint.close(this.#drainTimeoutMs).finally(() => this.#draining.delete(done));
    this.#draining.add(done);
  }

  /** Stops discovery, lets requests in flight finish for up to `timeoutMs`, and closes every pool. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Requests waiting for discovery go on and find the service closed.
    this.#letWaitersGo();
    await this.#subscription?.close();
    this.#guard?.close();
    // A diff still running is dropped: the endpoints it created have no connections yet.
    this.#diff = undefined;
    this.#queued = undefined;
    this.#queuedChanges = undefined;
    const endpoints = this.#list;
    this.#list = [];
    this.#endpoints.clear();
    this.balancer.update([]);
    await Promise.all([...endpoints.map((ep) => ep.close(timeoutMs)), ...this.#draining]);
    for (const cleanup of this.#cleanups.splice(0)) await cleanup();
  }
}
