import type { Registry, RegistryContentType } from 'prom-client';
import type { EndpointSnapshot } from '../core/balancer.js';
import type { EndpointState, EndpointView as LiveEndpoint } from '../core/endpoint.js';
import { cellLabels } from './outcome-class.js';
import { histogramSamples, registerScraped, type Sample } from './scraped-metric.js';
import { CIRCUIT_STATES, type ServiceStats } from './service-stats.js';

const ENDPOINT_STATES: readonly EndpointState[] = ['active', 'ejected', 'draining'];

/** One live endpoint as the per-endpoint series see it at scrape time. */
interface EndpointView {
  service: string;
  snapshot: EndpointSnapshot;
  /** The live endpoint, whose own counts the per-endpoint counters read. */
  live: LiveEndpoint | undefined;
}

function* endpointViews(services: Iterable<ServiceStats>): Generator<EndpointView> {
  for (const service of services) {
    for (const handle of service.handles) {
      const live = new Map(handle.endpoints().map((e) => [e.id, e]));
      for (const snapshot of handle.balancer.snapshot())
        yield { service: service.name, snapshot, live: live.get(snapshot.id) };
    }
  }
}

/**
 * Registers every family the metrics layer reports, each read at scrape time from the services'
 * stats (see the README's metrics table for names, types, labels and units).
 */
export function registerFamilies(
  registry: Registry<RegistryContentType>,
  prefix: string,
  services: ReadonlyMap<string, ServiceStats>,
): void {
  const all = () => services.values();
  const resetAll = () => {
    for (const s of all()) s.reset();
  };
  const perService = (
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    value: (s: ServiceStats) => number,
  ) =>
    registerScraped(registry, {
      name: `${prefix}${name}`,
      help,
      type,
      labelNames: ['service'],
      collect: (out) => {
        for (const s of all()) out.push({ labels: { service: s.name }, value: value(s) });
      },
      reset: resetAll,
    });

  registerScraped(registry, {
    name: `${prefix}requests_total`,
    help: 'Calls finished, per service, route, outcome (success, failure, rejected, cancelled) and status class.',
    type: 'counter',
    labelNames: ['service', 'route', 'outcome', 'status_class'],
    collect: (out) => {
      for (const s of all())
        for (const r of s.routes())
          r.requests.forEach((value, cell) => {
            if (value > 0)
              out.push({ labels: { service: s.name, route: r.route, ...cellLabels(cell) }, value });
          });
    },
    reset: resetAll,
  });
  for (const [name, phase, help] of [
    [
      'request_duration_seconds',
      'headers',
      'Time from the call to its response headers (or its error), in seconds.',
    ],
    [
      'response_duration_seconds',
      'end',
      'Time from the call to the end of its response body (or its error), in seconds.',
    ],
  ] as const) {
    const full = `${prefix}${name}`;
    registerScraped(registry, {
      name: full,
      help,
      type: 'histogram',
      labelNames: ['service', 'route'],
      collect: (out: Sample[]) => {
        for (const s of all())
          for (const r of s.routes()) {
            const h = r[phase];
            if (h.count > 0 || r === s.unrouted)
              histogramSamples(
                out,
                full,
                { service: s.name, route: r.route },
                h.bounds,
                h.counts,
                h.sum,
                h.count,
              );
          }
      },
      reset: resetAll,
    });
  }
  registerScraped(registry, {
    name: `${prefix}response_body_errors_total`,
    help: 'Calls whose response body failed after the headers (cut short, stalled, deadline), per service and TrellisError code.',
    type: 'counter',
    labelNames: ['service', 'code'],
    collect: (out) => {
      for (const s of all())
        for (const [code, value] of s.bodyErrors) out.push({ labels: { service: s.name, code }, value });
    },
    reset: resetAll,
  });
  perService(
    'requests_in_flight',
    'gauge',
    'Calls started whose response body has not ended yet.',
    (s) => s.inflight,
  );
  registerScraped(registry, {
    name: `${prefix}errors_total`,
    help: 'Calls that ended in an error (no response), per service and TrellisError code.',
    type: 'counter',
    labelNames: ['service', 'code'],
    collect: (out) => {
      for (const s of all())
        for (const [code, value] of s.errors) out.push({ labels: { service: s.name, code }, value });
    },
    reset: resetAll,
  });

  const perEndpoint = (
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    value: (v: EndpointView) => number | undefined,
  ) =>
    registerScraped(registry, {
      name: `${prefix}${name}`,
      help,
      type,
      labelNames: ['service', 'endpoint'],
      collect: (out) => {
        for (const v of endpointViews(all())) {
          const n = value(v);
          if (n !== undefined)
            out.push({ labels: { service: v.service, endpoint: v.snapshot.id }, value: n });
        }
      },
      reset: () => {
        for (const v of endpointViews(all()))
          if (v.live) v.live.attempts = v.live.failures = v.live.bodyFailures = 0;
      },
    });
  perEndpoint(
    'endpoint_requests_total',
    'counter',
    'Attempts sent to an endpoint (retries and backups each count).',
    (v) => v.live?.attempts ?? 0,
  );
  perEndpoint(
    'endpoint_failures_total',
    'counter',
    'Attempts an endpoint failed (5xx or upstream error).',
    (v) => v.live?.failures ?? 0,
  );
  perEndpoint(
    'endpoint_response_body_errors_total',
    'counter',
    'Answers below 500 whose body the endpoint cut short or stalled past the idle limit.',
    (v) => v.live?.bodyFailures ?? 0,
  );
  perEndpoint(
    'endpoint_requests_in_flight',
    'gauge',
    'Attempts in flight to an endpoint.',
    (v) => v.snapshot.inflight,
  );
  perEndpoint(
    'endpoint_latency_estimate_seconds',
    'gauge',
    "The balancer's latency estimate for an endpoint, in seconds.",
    (v) => (v.snapshot.latencyMs === undefined ? undefined : v.snapshot.latencyMs / 1000),
  );
  registerScraped(registry, {
    name: `${prefix}endpoint_state`,
    help: "1 for an endpoint's current state (active, ejected, draining), 0 for the others.",
    type: 'gauge',
    labelNames: ['service', 'endpoint', 'state'],
    collect: (out) => {
      for (const v of endpointViews(all()))
        for (const state of ENDPOINT_STATES)
          out.push({
            labels: { service: v.service, endpoint: v.snapshot.id, state },
            value: v.snapshot.state === state ? 1 : 0,
          });
    },
    reset: () => {},
  });
  registerScraped(registry, {
    name: `${prefix}endpoints`,
    help: 'Endpoints a service knows, by state.',
    type: 'gauge',
    labelNames: ['service', 'state'],
    collect: (out) => {
      for (const s of all()) {
        const counts = new Map<string, number>(ENDPOINT_STATES.map((state) => [state, 0]));
        for (const v of endpointViews([s]))
          counts.set(v.snapshot.state, (counts.get(v.snapshot.state) ?? 0) + 1);
        for (const [state, value] of counts) out.push({ labels: { service: s.name, state }, value });
      }
    },
    reset: () => {},
  });

  perService('retries_total', 'counter', 'Retries sent.', (s) => s.retries.sent);
  perService(
    'retry_budget_exhausted_total',
    'counter',
    'Retries not sent because the retry budget was spent.',
    (s) => s.retries.budgetExhausted,
  );
  registerScraped(registry, {
    name: `${prefix}hedges_total`,
    help: 'Backup requests sent, and backups that answered first (outcome sent or won).',
    type: 'counter',
    labelNames: ['service', 'outcome'],
    collect: (out) => {
      for (const s of all()) {
        out.push({ labels: { service: s.name, outcome: 'sent' }, value: s.hedges.sent });
        out.push({ labels: { service: s.name, outcome: 'won' }, value: s.hedges.won });
      }
    },
    reset: resetAll,
  });
  registerScraped(registry, {
    name: `${prefix}circuit_state`,
    help: "1 for the service breaker's current state (closed, open, half-open), 0 for the others.",
    type: 'gauge',
    labelNames: ['service', 'state'],
    collect: (out) => {
      for (const s of all())
        for (const state of CIRCUIT_STATES)
          out.push({ labels: { service: s.name, state }, value: s.circuit === state ? 1 : 0 });
    },
    reset: () => {},
  });
  registerScraped(registry, {
    name: `${prefix}endpoint_ejections_total`,
    help: 'Endpoints the health layer took out of rotation, by reason.',
    type: 'counter',
    labelNames: ['service', 'reason'],
    collect: (out) => {
      for (const s of all())
        for (const [reason, value] of s.ejections) out.push({ labels: { service: s.name, reason }, value });
    },
    reset: resetAll,
  });
  perService(
    'endpoint_returns_total',
    'counter',
    'Ejected endpoints put back in rotation.',
    (s) => s.returns,
  );
  perService(
    'discovery_updates_total',
    'counter',
    'Endpoint set changes discovery put in force.',
    (s) => s.discovery.updates,
  );
  perService(
    'discovery_errors_total',
    'counter',
    'Discovery failures and malformed updates (the last good set stays).',
    (s) => s.discovery.errors,
  );
  perService(
    'discovery_last_update_timestamp_seconds',
    'gauge',
    'When discovery last changed the endpoint set, in seconds since the epoch (0: not yet).',
    (s) => s.discovery.lastUpdateMs / 1000,
  );
}
