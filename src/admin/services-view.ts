import type { EndpointSnapshot } from '../core/balancer.js';
import type { AdminSource } from './admin-source.js';
import type { GoldenSignals, GoldenWindow } from './golden-window.js';
import type { MeshChange, MeshChangeLog } from './mesh-change-log.js';

/** One endpoint in `/services`. */
export interface EndpointView extends EndpointSnapshot {
  /** Attempts sent to it (with the metrics layer). */
  requests?: number;
  /** Attempts it failed (with the metrics layer). */
  failures?: number;
}

/** One service in `/services`. */
export interface ServiceView {
  name: string;
  /** Golden signals over the last ~10 s (with the metrics layer). */
  golden: GoldenSignals | null;
  /** Per route (calls without a route under `''`). */
  routes: Array<{ route: string } & GoldenSignals>;
  endpoints: EndpointView[];
  /** The breaker's state as last reported (`closed` until it changes). */
  breaker: string | null;
  retries: { sent: number; budgetExhausted: number } | null;
  hedges: { sent: number; won: number } | null;
  discovery: {
    source: string;
    updates: number | null;
    lastUpdate: string | null;
    errors: number | null;
    lastError: string | null;
  };
  /** Calls in flight (with the metrics layer). */
  inflight: number | null;
}

/** The whole `/services` document. */
export interface ServicesView {
  generatedAt: string;
  metrics: boolean;
  services: ServiceView[];
  /** The newest mesh events first (ejections, returns, breaker changes, discovery). */
  changes: readonly MeshChange[];
  tap: { clients: number; dropped: number; sampled: number; cut: number } | null;
}

/** Builds `/services` from what the mesh and its metrics layer know right now. */
export function servicesView(
  source: AdminSource,
  window: GoldenWindow | undefined,
  changes: MeshChangeLog,
  tap: ServicesView['tap'],
): ServicesView {
  const metrics = source.metrics;
  const services = source.services.map((name): ServiceView => {
    const stats = metrics?.stats(name);
    const perEndpoint = new Map<string, { requests: number; failures: number }>();
    for (const handle of stats?.handles ?? [])
      for (const endpoint of handle.endpoints()) {
        const counts = endpoint.telemetryState as { requests: number; failures: number } | undefined;
        if (counts !== undefined) perEndpoint.set(endpoint.id, counts);
      }
    const endpoints = source.snapshot(name).map((snapshot): EndpointView => {
      const counts = perEndpoint.get(snapshot.id);
      return counts === undefined
        ? snapshot
        : { ...snapshot, requests: counts.requests, failures: counts.failures };
    });
    const last = stats?.discovery.lastUpdateMs;
    return {
      name,
      golden: stats && window ? window.service(name) : null,
      routes:
        stats && window ? stats.routes().map((r) => ({ route: r.route, ...window.route(name, r) })) : [],
      endpoints,
      breaker: stats?.circuit ?? null,
      retries: stats ? { ...stats.retries } : null,
      hedges: stats ? { ...stats.hedges } : null,
      discovery: {
        source: source.discovery(name),
        updates: stats?.discovery.updates ?? null,
        lastUpdate: last ? new Date(last).toISOString() : null,
        errors: stats?.discovery.errors ?? null,
        lastError: stats?.discovery.lastError || null,
      },
      inflight: stats?.inflight ?? null,
    };
  });
  return {
    generatedAt: new Date().toISOString(),
    metrics: metrics !== undefined,
    services,
    changes: changes.recent(),
    tap,
  };
}
