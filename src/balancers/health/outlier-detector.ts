import type { EndpointView } from '../../core/endpoint.js';
import type { EjectionReason } from '../../core/events.js';
import type { ServiceHandle } from '../../core/layer.js';
import { EndpointHealth } from './endpoint-health.js';
import type { ResolvedHealthOptions } from './health-options.js';

/** How often ejection counts decay when success-rate checks are off. */
const QUIET_INTERVAL_MS = 10_000;

function healthOf(endpoint: EndpointView): EndpointHealth {
  const health = endpoint.healthState;
  if (health instanceof EndpointHealth) return health;
  const created = new EndpointHealth();
  endpoint.healthState = created;
  return created;
}

/**
 * Outlier detection for one service: ejects endpoints that fail in a row, that answer far
 * worse than their peers, or that fail active checks; brings them back after an ejection time
 * that doubles with each repeat; and ramps returning and new endpoints up slowly. Every state
 * change is applied to `EndpointView.state` / `slowStartFactor` and pushed to the balancer with
 * `update()`, so every balancer sees it and applies the shared panic rule.
 *
 * The request path only calls {@link OutlierDetector.success} and {@link OutlierDetector.failure};
 * time-driven work happens in {@link OutlierDetector.tick}, run by a timer.
 */
export class OutlierDetector {
  readonly #service: ServiceHandle;
  readonly #options: ResolvedHealthOptions;
  #total = 0;
  #ejected = 0;
  /** False until discovery has published a non-empty set: that first set is not slow-started. */
  #seeded = false;
  #intervalStart: number;

  /**
   * @param service - the service whose endpoints are watched
   * @param options - thresholds and times, defaults applied
   */
  constructor(service: ServiceHandle, options: ResolvedHealthOptions) {
    this.#service = service;
    this.#options = options;
    this.#intervalStart = options.clock();
  }

  /**
   * Takes in an endpoint discovery is adding, before the balancer sees it: health state, and
   * slow start once the service has had a first set. Returns whether slow start began (the
   * endpoint's traffic share changed).
   */
  admit(endpoint: EndpointView, now = this.#options.clock()): boolean {
    if (endpoint.healthState instanceof EndpointHealth) return false;
    const health = healthOf(endpoint);
    return this.#seeded && this.#startSlowStart(endpoint, health, now);
  }

  /**
   * Takes in a discovery update once it is in force: counts the set, and admits any endpoint
   * that did not come through {@link OutlierDetector.admit} (handles made outside a mesh).
   */
  sync(): void {
    const endpoints = this.#service.endpoints();
    const now = this.#options.clock();
    let warming = false;
    for (const endpoint of endpoints) warming = this.admit(endpoint, now) || warming;
    this.#count(endpoints);
    if (endpoints.length > 0) this.#seeded = true;
    if (warming) this.#service.balancer.update(endpoints);
  }

  /** Records a good answer. */
  success(endpoint: EndpointView): void {
    const health = healthOf(endpoint);
    health.successes++;
    health.consecutiveFailures = 0;
    health.onProbation = false;
  }

  /** Records a failed attempt (connection error, timeout, 5xx). */
  failure(endpoint: EndpointView): void {
    const health = healthOf(endpoint);
    health.failures++;
    health.consecutiveFailures++;
    if (health.onProbation || health.consecutiveFailures >= this.#options.consecutiveFailures) {
      this.#eject(endpoint, health, 'consecutive-failures', this.#options.clock());
    }
  }

  /** Records the outcome of an active check. */
  checked(endpoint: EndpointView, passed: boolean): void {
    const health = healthOf(endpoint);
    health.checkPassed = passed;
    health.checkFailures = passed ? 0 : health.checkFailures + 1;
    const threshold = this.#options.activeCheck?.failures ?? Number.POSITIVE_INFINITY;
    if (!passed && health.checkFailures >= threshold) {
      this.#eject(endpoint, health, 'active-check', this.#options.clock());
    }
  }

  /** Returns endpoints whose ejection is over, advances slow start, and compares success rates. */
  tick(): void {
    const now = this.#options.clock();
    const endpoints = this.#service.endpoints();
    let changed = false;
    for (const endpoint of endpoints) {
      const health = endpoint.healthState;
      if (!(health instanceof EndpointHealth)) continue;
      if (endpoint.state === 'ejected') {
        if (now >= health.ejectedUntil && health.checkPassed) {
          this.#return(endpoint, health, now);
          changed = true;
        }
      } else if (health.warmingSince !== Number.NEGATIVE_INFINITY) {
        this.#warm(endpoint, health, now);
        changed = true;
      }
    }
    const interval = this.#options.successRate?.intervalMs ?? QUIET_INTERVAL_MS;
    if (now - this.#intervalStart >= interval) {
      this.#intervalStart = now;
      if (this.#options.successRate) changed = this.#compareSuccessRates(endpoints, now) || changed;
      this.#endInterval(endpoints);
    }
    this.#count(endpoints);
    if (changed) this.#service.balancer.update(endpoints);
  }

  #count(endpoints: readonly EndpointView[]): void {
    let ejected = 0;
    for (const endpoint of endpoints) if (endpoint.state === 'ejected') ejected++;
    this.#total = endpoints.length;
    this.#ejected = ejected;
  }

  /** Ejects unless that would exceed the maximum ejection percentage. */
  #eject(endpoint: EndpointView, health: EndpointHealth, reason: EjectionReason, now: number): boolean {
    if (endpoint.state !== 'active') return false;
    const { maxEjectionPercent, baseEjectionMs, maxEjectionMs } = this.#options;
    const limit =
      maxEjectionPercent === 0 ? 0 : Math.max(1, Math.floor((this.#total * maxEjectionPercent) / 100));
    if (this.#ejected >= limit) return false;
    health.ejections++;
    const durationMs = Math.min(maxEjectionMs, baseEjectionMs * 2 ** (health.ejections - 1));
    endpoint.state = 'ejected';
    health.ejectedUntil = now + durationMs;
    health.consecutiveFailures = 0;
    health.onProbation = false;
    health.ejectedThisInterval = true;
    health.warmingSince = Number.NEGATIVE_INFINITY;
    // With active checks, coming back takes a check that passes after the ejection.
    if (this.#options.activeCheck) health.checkPassed = false;
    this.#ejected++;
    const service = this.#service;
    service.balancer.update(service.endpoints());
    service.events.emit('endpointEjected', service.name, endpoint.id, reason, durationMs);
    return true;
  }

  /**
   * Puts an endpoint back, on probation and in slow start. The balancer's memory of it (for
   * example a latency estimate inflated by its failures) describes the endpoint before it was
   * ejected, so it is cleared: the balancer gives it a neutral start on the next `update()`.
   */
  #return(endpoint: EndpointView, health: EndpointHealth, now: number): void {
    endpoint.state = 'active';
    endpoint.balancerState = undefined;
    health.onProbation = true;
    health.consecutiveFailures = 0;
    this.#ejected--;
    this.#startSlowStart(endpoint, health, now);
    this.#service.events.emit('endpointReturned', this.#service.name, endpoint.id);
  }

  /** Starts slow start; returns whether the endpoint's factor changed. */
  #startSlowStart(endpoint: EndpointView, health: EndpointHealth, now: number): boolean {
    if (this.#options.slowStartMs === 0) return false;
    health.warmingSince = now;
    endpoint.slowStartFactor = this.#options.slowStartMinFactor;
    return true;
  }

  /** Linear ramp from the minimum factor to 1 over the slow-start window. */
  #warm(endpoint: EndpointView, health: EndpointHealth, now: number): void {
    const { slowStartMs, slowStartMinFactor } = this.#options;
    const progress = (now - health.warmingSince) / slowStartMs;
    if (progress >= 1) {
      endpoint.slowStartFactor = 1;
      health.warmingSince = Number.NEGATIVE_INFINITY;
    } else {
      endpoint.slowStartFactor = slowStartMinFactor + (1 - slowStartMinFactor) * Math.max(progress, 0);
    }
  }

  /** Ejects endpoints whose success rate is far below their peers'; returns whether any was. */
  #compareSuccessRates(endpoints: readonly EndpointView[], now: number): boolean {
    const options = this.#options.successRate!;
    const judged: Array<{ endpoint: EndpointView; health: EndpointHealth; rate: number }> = [];
    for (const endpoint of endpoints) {
      const health = endpoint.healthState;
      if (!(health instanceof EndpointHealth) || endpoint.state !== 'active') continue;
      const requests = health.successes + health.failures;
      if (requests >= options.minRequests)
        judged.push({ endpoint, health, rate: health.successes / requests });
    }
    if (judged.length < options.minEndpoints) return false;
    const mean = judged.reduce((sum, j) => sum + j.rate, 0) / judged.length;
    const variance = judged.reduce((sum, j) => sum + (j.rate - mean) ** 2, 0) / judged.length;
    const threshold = Math.min(
      mean - options.stdevFactor * Math.sqrt(variance),
      mean - options.minDifference,
    );
    judged.sort((a, b) => a.rate - b.rate);
    let ejected = false;
    for (const { endpoint, health, rate } of judged) {
      if (rate >= threshold) break;
      ejected = this.#eject(endpoint, health, 'success-rate', now) || ejected;
    }
    return ejected;
  }

  /** Resets interval counters; an endpoint that stayed in all interval earns back one ejection. */
  #endInterval(endpoints: readonly EndpointView[]): void {
    for (const endpoint of endpoints) {
      const health = endpoint.healthState;
      if (!(health instanceof EndpointHealth)) continue;
      if (!health.ejectedThisInterval && endpoint.state === 'active' && health.ejections > 0)
        health.ejections--;
      health.ejectedThisInterval = false;
      health.successes = 0;
      health.failures = 0;
    }
  }
}
