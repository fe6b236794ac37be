import type { EventEmitter } from 'eventemitter3';
import type { Balancer } from '../core/balancer.js';
import type { RequestContext } from '../core/context.js';
import type { EndpointView } from '../core/endpoint.js';
import type { MeshEvents } from '../core/events.js';
import type { EndpointHandle, Service, ServiceHandle } from '../core/layer.js';
import type { ServiceReadings } from '../core/service-readings.js';
import type { MeshEndpoint } from './mesh-endpoint.js';

/** What an endpoint handle needs of its service runtime besides the public handle. */
export interface EndpointOwner extends ServiceHandle {
  /** Called after an endpoint's status changed: the balancer must re-read the set. */
  statusChanged(): void;
}

/**
 * The handle the layers of one endpoint's stack are built with: the service's handle, the
 * endpoint, and the one way to change the endpoint's status (which the service then hands to
 * its balancer, so no layer talks to the balancer).
 */
export class EndpointRuntimeHandle implements EndpointHandle {
  readonly service: ServiceHandle;
  readonly #owner: EndpointOwner;
  readonly #endpoint: MeshEndpoint;
  /** Whether the transport layer of this stack reports body ends (it is built first, at the bottom). */
  #bodyEndsReported = false;

  /**
   * @param owner - the service runtime
   * @param endpoint - the endpoint the stack is built for
   */
  constructor(owner: EndpointOwner, endpoint: MeshEndpoint) {
    this.service = owner;
    this.#owner = owner;
    this.#endpoint = endpoint;
  }

  get endpoint(): EndpointView {
    return this.#endpoint;
  }

  get name(): string {
    return this.#owner.name;
  }

  get balancer(): Balancer {
    return this.#owner.balancer;
  }

  get events(): EventEmitter<MeshEvents> {
    return this.#owner.events;
  }

  get closed(): boolean {
    return this.#owner.closed;
  }

  endpoints(): readonly EndpointView[] {
    return this.#owner.endpoints();
  }

  onEndpointAdded(hook: (endpoint: EndpointView) => void): void {
    this.#owner.onEndpointAdded(hook);
  }

  onBodyFailure(listener: () => void): void {
    this.#owner.onBodyFailure(listener);
  }

  waitForFirstEndpoints(ctx: RequestContext): Promise<void> | undefined {
    return this.#owner.waitForFirstEndpoints(ctx);
  }

  get readings(): ServiceReadings {
    return this.#owner.readings;
  }

  onClose(cleanup: () => void | Promise<void>): void {
    this.#owner.onClose(cleanup);
  }

  lookup(name: string): Service | undefined {
    return this.#owner.lookup(name);
  }

  setStatus(state: 'active' | 'ejected', slowStartFactor = 1): void {
    const endpoint = this.#endpoint;
    // A draining endpoint has left discovery: nothing brings it back.
    if (endpoint.state === 'draining') return;
    if (endpoint.state === state && endpoint.slowStartFactor === slowStartFactor) return;
    endpoint.state = state;
    endpoint.slowStartFactor = slowStartFactor;
    this.#owner.statusChanged();
  }

  onRemoved(cleanup: () => void): void {
    this.#endpoint.onRemoved(cleanup);
  }

  onBodyEnd(listener: (failed: boolean) => void): boolean {
    if (!this.#bodyEndsReported) return false;
    this.#endpoint.onBodyEnd(listener);
    return true;
  }

  reportsBodyEnds(): void {
    this.#bodyEndsReported = true;
  }
}
