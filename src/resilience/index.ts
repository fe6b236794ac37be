/**
 * Resilience: layers that keep a service usable when its upstreams are slow, failing or
 * overloaded. Deadlines with propagation and cancellation, idempotency-aware retries with a
 * retry budget, and hedged (backup) requests, plus the server-side helpers that carry an inbound
 * request's deadline into the mesh calls made for it; circuit breaking, concurrency limits
 * (bulkhead, adaptive), client-side adaptive throttling and rate limiting.
 *
 * @packageDocumentation
 */

// Deadlines, retries and hedging.
export type { CancelToken } from '../core/cancel-token.js';
export { FailureFlag, type FailureFlags } from '../core/failure-flags.js';
export type { FailureClassifier, RejectionClassifier } from '../core/outcome.js';
export type { Clock, Random, Timer, Timers } from '../core/time.js';
// Circuit breaking, concurrency control and client-side limits.
export {
  BREAKER_LAYER,
  type CircuitBreakerOptions,
  type CircuitState,
  circuitBreaker,
} from './breaker/circuit-breaker.js';
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
export { DEADLINE_LAYER, type DeadlineOptions, deadlines } from './deadline-layer.js';
export { HEDGE_LAYER, type HedgeOptions, hedging } from './hedge-layer.js';
export {
  currentInbound,
  fastifyInboundDeadline,
  type InboundOptions,
  type InboundScope,
  inboundDeadlineMiddleware,
  rejectUnprocessed,
  runInbound,
  withInboundDeadline,
} from './inbound.js';
export { RATE_LIMIT_LAYER, type RateLimitOptions, rateLimit } from './rate-limit/rate-limit-layer.js';
export { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';
export { RETRY_LAYER, type RetryOptions, retries } from './retry-layer.js';
export { type DefaultRetryPolicyOptions, defaultRetryPolicy, type RetryPolicy } from './retry-policy.js';
export {
  type AdaptiveThrottleOptions,
  adaptiveThrottle,
  THROTTLE_LAYER,
} from './throttle/adaptive-throttle.js';
export { TIMEOUT_HEADER, UNPROCESSED_HEADER } from './timeout-header.js';
