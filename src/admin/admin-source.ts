import type { EventEmitter } from 'eventemitter3';
import type { EndpointSnapshot } from '../core/balancer.js';
import type { MeshEvents } from '../core/events.js';
import type { ServiceReadings } from '../core/service-readings.js';
import type { MetricsLayerReadout } from '../telemetry/metrics-layer.js';

/** What the admin endpoint reads from a mesh: nothing it could change. */
export interface AdminSource {
  /** The services' logical names. */
  readonly services: readonly string[];
  /** A service's endpoints as its balancer sees them. */
  snapshot(service: string): EndpointSnapshot[];
  /** A service's discovery source, as its resolver describes itself. */
  discovery(service: string): string;
  /** What a service's layers publish of their state (retry budget, rules in force). */
  readings(service: string): ServiceReadings | undefined;
  /** The mesh's events (ejections, breaker changes, discovery), shown as they happen. */
  readonly events: EventEmitter<MeshEvents>;
  /** The metrics layer in the services' stacks, when there is one: `/metrics`, `/tap` and the golden signals need it. */
  readonly metrics: MetricsLayerReadout | undefined;
  /** False once the mesh is closing. */
  readonly open: boolean;
}
