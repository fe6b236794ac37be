import type { EjectionReason } from '../../core/events.js';
import type { EndpointHandle, ServiceHandle } from '../../core/layer.js';
import { EndpointHealth } from './endpoint-health.js';
import type { ResolvedHealthOptions } from './health-options.js';

/** How often ejection counts decay when success-rate checks are off. */
const QUIET_INTERVAL_MS = 10_000;

/**
 * Outlier detection for one service: ejects endpoints that fail in a row, that answer far
 * worse than their peers, or that fail active checks; brings them back after an ejection time
 * that doubles with each repeat; and ramps returning and new endpoints up slowly. It owns what
 * it knows of each endpoint (an {@link EndpointHealth} per endpoint stack that registered), and
 * every status change goes through the endpoint's handle (`setStatus`): the service hands the
 * new status to its balancer, which applies the shared panic rule and forgets what it learnt of
 * an endpoint that returns. The detector never talks to the balancer.
 *
 * The request path only calls {@link OutlierDetector.success} and {@link OutlierDetector.failure};
 * time-driven work happens in {@link OutlierDetector.tick}, run by a timer.
 */
export class OutlierDetector {
  readonly #service: ServiceHandle;
  readonly #options: ResolvedHealthOptions;
  readonly #endpoints = new Map<EndpointHandle, EndpointHealth>();
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
    this.#intervalStart = options.timers.now();
  }

  /**
   * Takes in an endpoint discovery is adding (its endpoint stack is being built): its health
   * state, and slow start once the service has had a first set.
   */
  admit(endpoint: EndpointHandle, now = this.#options.timers.now()): EndpointHealth {
    const health = new EndpointHealth();
    this.#endpoints.set(endpoint, health);
    if (this.#seeded) this.#startSlowStart(endpoint, health, now);
    return health;
  }

  /** Forgets an endpoint that has left the service. */
  remove(endpoint: EndpointHandle): void {
    if (!this.#endpoints.delete(endpoint)) return;
    this.#count();
  }

  /** Takes in a discovery update once it is in force: later additions are slow-started. */
  sync(): void {
    if (this.#service.endpoints().length > 0) this.#seeded = true;
    this.#count();
  }

  /** Records a good answer. */
  success(health: EndpointHealth): void {
    health.successes++;
    health.consecutiveFailures = 0;
    health.onProbation = false;
  }

  /** Records a failed attempt (connection error, timeout, 5xx, a body cut short). */
  failure(endpoint: EndpointHandle, health: EndpointHealth): void {
    health.failures++;
    health.consecutiveFailures++;
    if (health.onProbation || health.consecutiveFailures >= this.#options.consecutiveFailures) {
      this.#eject(endpoint, health, 'consecutive-failures', this.#options.timers.now());
    }
  }

  /** Records the outcome of an active check. */
  checked(endpoint: EndpointHandle, health: EndpointHealth, passed: boolean): void {
    health.checkPassed = passed;
    health.checkFailures = passed ? 0 : health.checkFailures + 1;
    const threshold = this.#options.activeCheck?.failures ?? Number.POSITIVE_INFINITY;
    if (!passed && health.checkFailures >= threshold) {
      this.#eject(endpoint, health, 'active-check', this.#options.timers.now());
    }
  }

  /** The endpoints being watched, with what is known of each (for active checks). */
  entries(): IterableIterator<[EndpointHandle, EndpointHealth]> {
    return this.#endpoints.entries();
  }

  /** Returns endpoints whose ejection is over, advances slow start, and compares success rates. */
  tick(): void {
    const now = this.#options.timers.now();
    for (const [endpoint, health] of this.#endpoints) {
      const state = endpoint.endpoint.state;
      if (state === 'ejected') {
        if (now >= health.ejectedUntil && health.checkPassed) this.#return(endpoint, health, now);
      } else if (state === 'active' && health.warmingSince !== Number.NEGATIVE_INFINITY) {
        this.#warm(endpoint, health, now);
      }
    }
    const interval = this.#options.successRate?.intervalMs ?? QUIET_INTERVAL_MS;
    if (now - this.#intervalStart >= interval) {
      this.#intervalStart = now;
      if (this.#options.successRate) this.#compareSuccessRates(now);
      this.#endInterval();
    }
    this.#count();
  }

  #count(): void {
    let ejected = 0;
    for (const endpoint of this.#endpoints.keys()) if (endpoint.endpoint.state === 'ejected') ejected++;
    this.#ejected = ejected;
  }

  /** Ejects unless that would exceed the maximum ejection percentage. */
  #eject(endpoint: EndpointHandle, health: EndpointHealth, reason: EjectionReason, now: number): boolean {
    if (endpoint.endpoint.state !== 'active') return false;
    const { maxEjectionPercent, baseEjectionMs, maxEjectionMs } = this.#options;
    const total = this.#service.endpoints().length;
    const limit = maxEjectionPercent === 0 ? 0 : Math.max(1, Math.floor((total * maxEjectionPercent) / 100));
    if (this.#ejected >= limit) return false;
    health.ejections++;
    const durationMs = Math.min(maxEjectionMs, baseEjectionMs * 2 ** (health.ejections - 1));
    health.ejectedUntil = now + durationMs;
    health.consecutiveFailures = 0;
    health.onProbation = false;
    health.ejectedThisInterval = true;
    health.warmingSince = Number.NEGATIVE_INFINITY;
    // With active checks, coming back takes a check that passes after the ejection.
    if (this.#options.activeCheck) health.checkPassed = false;
    this.#ejected++;
    endpoint.setStatus('ejected');
    const service = this.#service;
    service.events.emit('endpointEjected', service.name, endpoint.endpoint.id, reason, durationMs);
    return true;
  }

  /** Puts an endpoint back, on probation and in slow start. */
  #return(endpoint: EndpointHandle, health: EndpointHealth, now: number): void {
    health.onProbation = true;
    health.consecutiveFailures = 0;
    this.#ejected--;
    if (!this.#startSlowStart(endpoint, health, now)) endpoint.setStatus('active');
    this.#service.events.emit('endpointReturned', this.#service.name, endpoint.endpoint.id);
  }

  /** Starts slow start (which also makes the endpoint active); returns whether it began. */
  #startSlowStart(endpoint: EndpointHandle, health: EndpointHealth, now: number): boolean {
    if (this.#options.slowStartMs === 0) return false;
    health.warmingSince = now;
    endpoint.setStatus('active', this.#options.slowStartMinFactor);
    return true;
  }

  /** Linear ramp from the minimum factor to 1 over the slow-start window. */
  #warm(endpoint: EndpointHandle, health: EndpointHealth, now: number): void {
    const { slowStartMs, slowStartMinFactor } = this.#options;
    const progress = (now - health.warmingSince) / slowStartMs;
    if (progress >= 1) {
      health.warmingSince = Number.NEGATIVE_INFINITY;
      endpoint.setStatus('active', 1);
    } else {
      endpoint.setStatus('active', slowStartMinFactor + (1 - slowStartMinFactor) * Math.max(progress, 0));
    }
  }

  /** Ejects endpoints whose success rate is far below their peers'. */
  #compareSuccessRates(now: number): void {
    const options = this.#options.successRate!;
    const judged: Array<{ endpoint: EndpointHandle; health: EndpointHealth; rate: number }> = [];
    for (const [endpoint, health] of this.#endpoints) {
      if (endpoint.endpoint.state !== 'active') continue;
      const requests = health.successes + health.failures;
      if (requests >= options.minRequests)
        judged.push({ endpoint, health, rate: health.successes / requests });
    }
    if (judged.length < options.minEndpoints) return;
    const mean = judged.reduce((sum, j) => sum + j.rate, 0) / judged.length;
    const variance = judged.reduce((sum, j) => sum + (j.rate - mean) ** 2, 0) / judged.length;
    const threshold = Math.min(
      mean - options.stdevFactor * Math.sqrt(variance),
      mean - options.minDifference,
    );
    judged.sort((a, b) => a.rate - b.rate);
    for (const { endpoint, health, rate } of judged) {
      if (rate >= threshold) break;
      this.#eject(endpoint, health, 'success-rate', now);
    }
  }

  /** Resets interval counters; an endpoint that stayed in all interval earns back one ejection. */
  #endInterval(): void {
    for (const [endpoint, health] of this.#endpoints) {
      if (!health.ejectedThisInterval && endpoint.endpoint.state === 'active' && health.ejections > 0)
        health.ejections--;
      health.ejectedThisInterval = false;
      health.successes = 0;
      health.failures = 0;
    }
  }
}
