import { EventEmitter } from 'eventemitter3';
import type { Balancer } from './balancer.js';
import type { EndpointView } from './endpoint.js';
import type { MeshEvents } from './events.js';
import type { ServiceHandle } from './layer.js';

/** A {@link ServiceHandle} for a layer's tests, with what the test needs to play the mesh's part. */
export interface TestServiceHandle extends ServiceHandle {
  /** Runs the cleanups layers registered with `onClose`, in order (as the mesh does at close). */
  close(): Promise<void>;
  /** Runs the listeners layers registered with `onBodyFailure` (an answer's body was cut short). */
  bodyFailed(): void;
}

/**
 * A complete {@link ServiceHandle} for testing a layer outside a mesh, as in
 * `layer.wrap(next, testServiceHandle())`. Every member has a default a test can override:
 *
 * - `name` `'test'`; `events` a new emitter (listen to it to see what the layer reports);
 * - `endpoints()` none; `balancer` round robin over the active ones among `endpoints()`;
 * - `closed` false; `waitForFirstEndpoints()` undefined (the service has had endpoints);
 * - `onEndpointAdded(hook)` runs the hook at once for each of `endpoints()`;
 * - `readings` empty; `lookup()` finds no other service;
 * - `onClose` and `onBodyFailure` keep what they are given, for `close()` and `bodyFailed()`.
 *
 * @example
 * ```ts
 * import { type MeshResponse, RequestContext, testServiceHandle } from 'trellis';
 *
 * const handle = testServiceHandle({ name: 'users' });
 * const answer = async () => ({ statusCode: 204 }) as MeshResponse; // what the layer below returns
 * const service = myLayer().wrap(answer, handle);
 * const response = await service(new RequestContext({ service: 'users', path: '/' }));
 * await handle.close(); // runs the cleanups the layer registered (its timers stop)
 * ```
 */
export function testServiceHandle(overrides: Partial<ServiceHandle> = {}): TestServiceHandle {
  const cleanups: Array<() => void | Promise<void>> = [];
  const bodyFailures: Array<() => void> = [];
  const endpoints = overrides.endpoints ?? (() => []);
  return {
    name: 'test',
    balancer: roundRobinOver(endpoints),
    events: new EventEmitter<MeshEvents>(),
    closed: false,
    readings: { retryBudget: undefined, rules: undefined },
    onEndpointAdded: (hook) => {
      for (const endpoint of endpoints()) hook(endpoint);
    },
    onBodyFailure: (listener) => bodyFailures.push(listener),
    waitForFirstEndpoints: () => undefined,
    onClose: (cleanup) => cleanups.push(cleanup),
    lookup: () => undefined,
    ...overrides,
    endpoints,
    async close() {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    },
    bodyFailed() {
      for (const listener of bodyFailures) listener();
    },
  };
}

/** Each active endpoint of `endpoints()` in turn (the balancers live outside core). */
function roundRobinOver(endpoints: () => readonly EndpointView[]): Balancer {
  let next = 0;
  return {
    name: 'round-robin',
    update: () => {},
    pick: () => {
      const active = endpoints().filter((e) => e.state === 'active');
      if (active.length === 0) return undefined;
      next = (next + 1) % active.length;
      return active[next];
    },
    snapshot: () => [],
  };
}
