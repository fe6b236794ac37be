import type { BalancerFactory } from '../core/balancer.js';
import type { Layer } from '../core/layer.js';
import type { Stack } from '../core/stack.js';
import type { Resolver } from '../discovery/resolver.js';
import type { TransportOptions } from '../transport/transport-options.js';

/** An edit to a stack, applied when the mesh is built. */
export type StackEdit = (stack: Stack) => Stack;

/** What a {@link ServiceBuilder} has collected; read by the mesh builder at `build()`. */
export interface ServiceDraft {
  /** Logical name. */
  readonly name: string;
  /** Discovery source. */
  resolver: Resolver | undefined;
  /** Balancer factory; the mesh default when unset. */
  balancer: BalancerFactory | undefined;
  /** Extra host names. */
  hosts: string[];
  /** Transport overrides for this service. */
  transport: TransportOptions;
  /** Stack edits for this service, applied after the mesh-wide ones. */
  stackEdits: StackEdit[];
}

let create!: (name: string) => ServiceBuilder;
let draft!: (builder: ServiceBuilder) => ServiceDraft;

/** A builder for the service `name` (`MeshBuilder.service`; the constructor is private). */
export function createServiceBuilder(name: string): ServiceBuilder {
  return create(name);
}

/** What a service builder has been told so far (read by the mesh builder's plan). */
export function draftOf(builder: ServiceBuilder): ServiceDraft {
  return draft(builder);
}

/**
 * Configures one service. Every method returns the builder, so calls chain; nothing is checked
 * until `build()`, which reports every problem at once.
 */
export class ServiceBuilder {
  /** What has been configured so far. */
  readonly #draft: ServiceDraft;

  static {
    create = (name) => new ServiceBuilder(name);
    draft = (builder) => builder.#draft;
  }

  /** Made by `MeshBuilder.service`. */
  private constructor(name: string) {
    this.#draft = {
      name,
      resolver: undefined,
      balancer: undefined,
      hosts: [],
      transport: {},
      stackEdits: [],
    };
  }

  /** Where the service's endpoints come from (for example `staticEndpoints([...])`). */
  discovery(resolver: Resolver): this {
    this.#draft.resolver = resolver;
    return this;
  }

  /** How an endpoint is chosen for each request (for example `roundRobin()`). */
  balancer(factory: BalancerFactory): this {
    this.#draft.balancer = factory;
    return this;
  }

  /**
   * Other host names that address this service, e.g. `users.prod.svc.cluster.local`, optionally
   * with a port (`users.internal:8080`). Without a port a claim matches the scheme's default port
   * only; `localhost` and IP literals must name a port and link-local addresses are refused (see
   * the README, "Which requests the mesh takes").
   */
  hosts(...names: string[]): this {
    this.#draft.hosts.push(...names);
    return this;
  }

  /** Connection settings for this service (merged over the mesh-wide ones). */
  transport(options: TransportOptions): this {
    this.#draft.transport = { ...this.#draft.transport, ...options };
    return this;
  }

  /** Edits this service's stack, e.g. `s.stack((st) => st.insertBefore('balance', myLayer))`. */
  stack(edit: StackEdit): this {
    this.#draft.stackEdits.push(edit);
    return this;
  }

  /**
   * Configures a concern by its layer: replaces the layer of the same name in this service's
   * stack, or, for an opt-in layer (`rateLimit`, `adaptiveThrottle`, `bulkhead`, `metrics`...),
   * inserts it at its role's canonical place (`LAYER_ORDER`), so no position need be learnt.
   */
  layer(layer: Layer): this {
    return this.stack((stack) => stack.place(layer));
  }

  /**
   * Adds a layer of your own to the endpoint stack: the layers below `balance`, built once for
   * each endpoint (its `wrap` gets an `EndpointHandle` naming the endpoint, so state kept in that
   * closure is the endpoint's own). It goes directly above `transport`, below `health`, so it
   * sees every attempt sent to the endpoint; a layer of the same name is replaced instead.
   *
   * @example
   * ```ts
   * s.endpointLayer({
   *   name: 'count-per-endpoint',
   *   wrap(next, handle) {
   *     let sent = 0; // this endpoint's alone
   *     return (ctx) => { sent++; return next(ctx); };
   *   },
   * });
   * ```
   */
  endpointLayer(layer: Layer): this {
    return this.stack((stack) =>
      stack.has(layer.name) ? stack.replace(layer) : stack.insertBefore('transport', layer),
    );
  }
}
