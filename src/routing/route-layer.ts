import type { RequestContext } from '../core/context.js';
import { type Interceptor, interceptingLayer } from '../core/interceptor.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../core/layer.js';
import { invalidLayer, optionKeys, unknownOptions } from '../core/validate.js';
import { type BackendLookup, CompiledRoutes, unknownBackends } from './compile.js';
import { parseServiceRoutes } from './parse-rules.js';
import { EMPTY_ROUTE_TABLE, type RouteTable, type ServiceRoutes } from './rules.js';
import { RulesSource, subscribeToRules } from './rules-source.js';
import { ServiceRulesState } from './service-rules-state.js';
import { SplitRandom } from './split-random.js';

/** The layer name of {@link routes}. */
export const ROUTE_LAYER = 'route';

/** Options for {@link routes}. */
export interface RouteLayerOptions {
  /**
   * Seed of the random draws behind splits, mirrors and faults (each service gets its own
   * generator); random by default. Tests pass one to make decisions repeatable.
   */
  seed?: number;
}

const ROUTE_LAYER_KEYS = optionKeys<RouteLayerOptions>({ seed: true });

/**
 * The top layer of a service's stack: sends each request to a backend service chosen by the
 * routing rules (header and path matches, weighted splits), mirrors a share of requests, and
 * injects faults. Without rules, it passes requests straight down.
 *
 * Give it a {@link RulesSource} to follow rules that change at run time (every service reads
 * its own entry of the shared table), or one service's routes to fix them at build time.
 * Backends are dispatched into their own full stack (discovery, balancer, resilience); the
 * backend's own routing rules apply only to requests addressed to it by name, so a split never
 * routes twice and rules cannot loop.
 *
 * Each service publishes the rules it has in force, with their version and source, as its
 * `rules` reading (the admin endpoint's `/services`, the `routing_rules_version` metric), and the
 * mesh emits `rulesApplied` for every rule set put in force and `rulesRejected` for every update
 * its source rejects.
 *
 * @example
 * ```ts
 * // rules for every service, changed at run time
 * Mesh.builder().rules(fileRules('/etc/trellis/routes.yaml'))
 * // fixed rules for one service
 * Mesh.builder().service('users', (s) =>
 *   s.discovery(...).layer(routes({ routes: [{ split: [{ backend: 'users', weight: 99 }, { backend: 'users-v2', weight: 1 }] }] })))
 * ```
 *
 * @param rules - a rules source, one service's routes, or nothing (no rules)
 * @param options - a seed for repeatable decisions in tests
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` when fixed routes are invalid.
 */
export function routes(rules?: RulesSource | ServiceRoutes, options: RouteLayerOptions = {}): Layer {
  const unknown = unknownOptions('routes', options, ROUTE_LAYER_KEYS);
  if (unknown.length > 0) return invalidLayer(ROUTE_LAYER, unknown);
  if (rules === undefined) return { name: ROUTE_LAYER, wrap: (next) => next };
  if (rules instanceof RulesSource) return sourceLayer(rules, options.seed);
  const fixed = parseServiceRoutes(rules);
  // Given an (empty) table, the source counts the fixed routes as its version 1.
  return sourceLayer(new RulesSource('routes() in the builder', EMPTY_ROUTE_TABLE), options.seed, fixed);
}

function sourceLayer(source: RulesSource, seed: number | undefined, fixed?: ServiceRoutes): Layer {
  return interceptingLayer({
    name: ROUTE_LAYER,
    intercept(next: Service, service: ServiceHandle): Interceptor {
      const name = service.name;
      const random = new SplitRandom(seed);
      // The service's own name or any host it claims means "this service's own endpoints".
      const self = service.lookup(name);
      const lookup: BackendLookup = (backend) => {
        const found = service.lookup(backend);
        return backend === name || (found !== undefined && found === self) ? next : found;
      };
      const entry = (table: RouteTable): ServiceRoutes | undefined =>
        fixed ?? (Object.hasOwn(table.services, name) ? table.services[name] : undefined);
      // The rules in force for this service; null when it has none (the common case).
      let current: CompiledRoutes | null = null;
      const state = new ServiceRulesState(source);
      service.readings.rules = state;
      const unsubscribe = subscribeToRules(source, {
        service: name,
        check: (table) => {
          const rules = entry(table);
          return rules === undefined ? [] : unknownBackends(name, rules, lookup, next);
        },
        apply: (table) => {
          const rules = entry(table);
          current =
            rules === undefined || rules.routes.length === 0
              ? null
              : new CompiledRoutes(rules, lookup, next, random);
          state.apply(source, rules?.routes ?? []);
          service.events.emit('rulesApplied', name, source.version, source.origin);
        },
      });
      service.onClose(unsubscribe);
      // Listened to once the subscription holds (a table that does not fit throws above).
      const rejected = (error: Error): void => {
        state.reject(error);
        service.events.emit('rulesRejected', name, error);
      };
      source.on('rejected', rejected);
      service.onClose(() => {
        source.off('rejected', rejected);
      });
      return function route(ctx: RequestContext): Promise<MeshResponse> | undefined {
        // A request routed here from another service's split keeps that service's name and is
        // not routed again.
        if (current === null || ctx.service !== name) return undefined;
        return current.handle(ctx);
      };
    },
  });
}
