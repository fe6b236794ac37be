import type { RulesInForce } from '../core/service-readings.js';
import type { RouteRule } from './rules.js';
import type { RulesSource } from './rules-source.js';

/**
 * The rules one service's route layer has in force, the version and origin they came with, and
 * how many updates it applied or saw rejected: what it publishes as the service's `rules`
 * reading for the admin endpoint and the metrics.
 */
export class ServiceRulesState implements RulesInForce {
  readonly source: string;
  version = 0;
  origin = '';
  appliedAtMs = 0;
  routes: readonly RouteRule[] = [];
  applied = 0;
  rejected = 0;
  lastRejection = '';

  /** @param source - the rules source the service follows */
  constructor(source: RulesSource) {
    this.source = source.description;
  }

  /** Records the source's table in force (its version and origin) and the service's routes in it. */
  apply(source: RulesSource, routes: readonly RouteRule[]): void {
    this.version = source.version;
    this.origin = source.origin;
    this.appliedAtMs = Date.now();
    this.routes = routes;
    this.applied++;
  }

  /** Records an update the source rejected. */
  reject(error: Error): void {
    this.rejected++;
    this.lastRejection = error.message;
  }
}
