import type { MeshEndpoint } from '../service/mesh-endpoint.js';
import type { EndpointSnapshot } from './balancer.js';

/** The snapshot entry of one endpoint, with the balancer's latency estimate when it keeps one. */
export function snapshotOf(endpoint: MeshEndpoint, latencyMs?: number): EndpointSnapshot {
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
