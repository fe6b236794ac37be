/**
 * Load balancers: how a service picks an endpoint for each request, and the `health` layer that
 * ejects failing endpoints and ramps new ones up slowly.
 *
 * | factory            | chooses                                                        |
 * |--------------------|----------------------------------------------------------------|
 * | {@link p2cPeakEwma} (default) | of two random endpoints, lower latency x (in flight + 1) |
 * | {@link p2cLeastLoaded} | of two random endpoints, fewer requests in flight          |
 * | {@link roundRobin} | each endpoint in turn                                          |
 * | {@link random}     | uniformly at random                                            |
 * | {@link weighted}   | in proportion to discovery weights                             |
 * | {@link ringHash}   | by a request key, sticky, with bounded load                    |
 * | {@link aperture}   | within a stable per-client window of a large fleet             |
 * | {@link zoneAware}  | in the caller's zone first, spilling over when needed          |
 *
 * All of them skip ejected endpoints unless too few are active (see
 * {@link eligibleEndpoints}), and all expose `snapshot()`.
 *
 * @packageDocumentation
 */

export type { Balancer, BalancerFactory, EndpointSnapshot } from '../core/balancer.js';
export type { EjectionReason } from '../core/events.js';
export type { Clock, RandomSource, Timer, Timers } from '../core/time.js';
export { type ApertureOptions, aperture } from './aperture.js';
export { DEFAULT_PANIC_THRESHOLD, type Eligibility, eligibleEndpoints } from './eligibility.js';
export { HEALTH_LAYER, healthLayer } from './health/health-layer.js';
export type { ActiveCheckOptions, HealthOptions, SuccessRateOptions } from './health/health-options.js';
export type { BalancerOptions } from './options.js';
export { type P2CPeakEwmaOptions, p2cLeastLoaded, p2cPeakEwma } from './p2c.js';
export { random } from './random.js';
export { type RingHashOptions, ringHash } from './ring-hash.js';
export { roundRobin } from './round-robin.js';
export { weighted } from './weighted.js';
export { type ZoneAwareOptions, zoneAware } from './zone-aware.js';
