import type { EndpointSnapshot } from '../core/balancer.js';
import type { EndpointView as CoreEndpointView } from '../core/endpoint.js';
import type { ServiceReadings } from '../core/service-readings.js';
import type { AdminSource } from './admin-source.js';
import type { GoldenSignals, GoldenWindow } from './golden-window.js';
import type { MeshChange, MeshChangeLog } from './mesh-change-log.js';

/** One endpoint in `/services`. */
export interface EndpointView extends EndpointSnapshot {
  /** Attempts sent to it (with the metrics layer). */
  requests?: number;
  /** Attempts it failed (with the metrics layer). */
  failures?: number;
  /** Answers whose body it cut short or stalled (with the metrics layer). */
  bodyErrors?: number;
}

/** The routing rules in force for a service in `/services`. */
export interface RulesView {
  /** Where they come from (`file /etc/trellis/routes.yaml`, `etcd key /trellis/routes`). */
  source: string;
  /** Their version: the etcd revision for etcd rules, else the count of rule sets the source applied. */
  version: number;
  /** The update that put them in force. */
  origin: string;
  /** When they were put in force, as an ISO timestamp. */
  appliedAt: string;
  /** The service's routes in that version, in order; empty: no rules for it. */
  routes: readonly unknown[];
  /** Rule sets applied (the first included) and updates rejected. */
  applied: number;
  rejected: number;
  /** Why the latest update was rejected, if one was. */
  lastRejection: string | null;
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
  /** What is left of the retry budget now, and what it allows over its window (with a retry layer). */
  retryBudget: { left: number; capacity: number } | null;
  /** Calls whose response body failed after the headers (with the metrics layer). */
  bodyErrors: number | null;
  /** The routing rules in force (with a route layer that follows a rules source). */
  rules: RulesView | null;
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
    const perEndpoint = new Map<string, CoreEndpointView>();
    for (const handle of stats?.handles ?? [])
      for (const endpoint of handle.endpoints()) perEndpoint.set(endpoint.id, endpoint);
    const endpoints = source.snapshot(name).map((snapshot): EndpointView => {
      const counts = perEndpoint.get(snapshot.id);
      return counts === undefined
        ? snapshot
        : {
            ...snapshot,
            requests: counts.attempts,
            failures: counts.failures,
            bodyErrors: counts.bodyFailures,
          };
    });
    const readings = source.readings(name);
    const budget = readings?.retryBudget;
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
      retryBudget: budget ? { left: budget.left(), capacity: budget.capacity() } : null,
      bodyErrors: stats ? sum(stats.bodyErrors.values()) : null,
      rules: rulesView(readings),
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

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function rulesView(readings: ServiceReadings | undefined): RulesView | null {
  const rules = readings?.rules;
  if (rules === undefined) return null;
  return {
    source: rules.source,
    version: rules.version,
    origin: rules.origin,
    appliedAt: new Date(rules.appliedAtMs).toISOString(),
    routes: rules.routes,
    applied: rules.applied,
    rejected: rules.rejected,
    lastRejection: rules.lastRejection || null,
  };
}
