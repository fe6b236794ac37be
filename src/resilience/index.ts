/**
 * Resilience: layers that keep a service usable when its upstreams are slow, failing or
 * overloaded.
 *
 * @packageDocumentation
 */

// Circuit breaking, concurrency control and client-side limits.
export {
  BREAKER_LAYER,
  type CircuitBreakerOptions,
  type CircuitState,
  circuitBreaker,
} from './breaker/circuit-breaker.js';
export { type Clock, monotonicClock, type Random } from './clock.js';
export { AimdLimit, type AimdLimitOptions } from './concurrency/aimd-limit.js';
export {
  type AdaptiveConcurrencyOptions,
  adaptiveConcurrency,
  type BulkheadOptions,
  bulkhead,
  CONCURRENCY_LAYER,
  type ConcurrencyQueueOptions,
} from './concurrency/concurrency-layer.js';
export { GradientLimit, type GradientLimitOptions } from './concurrency/gradient-limit.js';
export { type ConcurrencyLimit, FixedLimit } from './concurrency/limit.js';
export {
  type FailureClassifier,
  isLocalError,
  type RejectionClassifier,
  upstreamFailure,
  upstreamRejected,
} from './outcome.js';
export { RATE_LIMIT_LAYER, type RateLimitOptions, rateLimit } from './rate-limit/rate-limit-layer.js';
export { TokenBucket } from './rate-limit/token-bucket.js';
export {
  type AdaptiveThrottleOptions,
  adaptiveThrottle,
  THROTTLE_LAYER,
  throttleProbability,
} from './throttle/adaptive-throttle.js';
