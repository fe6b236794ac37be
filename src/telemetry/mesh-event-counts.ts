import type { EventEmitter } from 'eventemitter3';
import type { MeshEvents } from '../core/events.js';
import type { ServiceStats } from './service-stats.js';

/**
 * Counts what a mesh reports through its events (retries, hedges, breaker changes, ejections,
 * discovery updates) into the services' stats: one set of listeners per mesh, whatever its
 * number of services, each finding the service's stats by name. Events are emitted off the
 * request path's common case (a retry, an ejection), so a map lookup here costs nothing that
 * matters.
 */
export class MeshEventCounts {
  readonly #meshes = new WeakSet<EventEmitter<MeshEvents>>();
  readonly #byName: ReadonlyMap<string, ServiceStats>;

  /** @param byName - the stats of every service, by name (the layer adds to it) */
  constructor(byName: ReadonlyMap<string, ServiceStats>) {
    this.#byName = byName;
  }

  /** Starts listening to a mesh's events, once per mesh. */
  listen(events: EventEmitter<MeshEvents>): void {
    if (this.#meshes.has(events)) return;
    this.#meshes.add(events);
    const stats = (service: string) => this.#byName.get(service);
    events.on('retry', (service) => {
      const s = stats(service);
      if (s) s.retries.sent++;
    });
    events.on('retryBudgetExhausted', (service) => {
      const s = stats(service);
      if (s) s.retries.budgetExhausted++;
    });
    events.on('hedge', (service, outcome) => {
      const s = stats(service);
      if (s) s.hedges[outcome]++;
    });
    events.on('circuit', (service, state) => {
      const s = stats(service);
      if (s) s.circuit = state;
    });
    events.on('endpointEjected', (service, _endpoint, reason) => {
      const s = stats(service);
      if (s) s.ejections.set(reason, (s.ejections.get(reason) ?? 0) + 1);
    });
    events.on('endpointReturned', (service) => {
      const s = stats(service);
      if (s) s.returns++;
    });
    events.on('endpoints', (service) => {
      const s = stats(service);
      if (!s) return;
      s.discovery.updates++;
      s.discovery.lastUpdateMs = Date.now();
    });
    events.on('discoveryError', (service, error) => {
      const s = stats(service);
      if (!s) return;
      s.discovery.errors++;
      s.discovery.lastError = error.message;
    });
  }
}
