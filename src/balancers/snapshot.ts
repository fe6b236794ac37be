import type { EndpointSnapshot } from '../core/balancer.js';
import type { EndpointView } from '../core/endpoint.js';

/** The snapshot entry of one endpoint, with the balancer's latency estimate when it keeps one. */
export function snapshotOf(endpoint: EndpointView, latencyMs?: number): EndpointSnapshot {
  const entry: EndpointSnapshot = {
    id: endpoint.id,
    state: endpoint.state,
    inflight: endpoint.inflight,
    weight: endpoint.endpoint.weight,
    slowStartFactor: endpoint.slowStartFactor,
    zone: endpoint.endpoint.zone,
  };
  if (latencyMs !== undefined) entry.latencyMs = latencyMs;
  return entry;
}
