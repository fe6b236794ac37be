/**
 * Resilience layers for trellis: deadlines with propagation and cancellation, idempotency-aware
 * retries with a retry budget, and hedged (backup) requests; plus the server-side helpers that
 * carry an inbound request's deadline into the mesh calls made for it.
 *
 * @packageDocumentation
 */

export { jitteredBackoff, parseRetryAfter } from './backoff.js';
export { CancelToken } from './cancel-token.js';
export { DEADLINE_LAYER, type DeadlineOptions, deadlineExceeded, deadlines } from './deadline-layer.js';
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
export { LatencyWindow, type LatencyWindowOptions } from './latency-window.js';
export { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';
export { RETRY_LAYER, type RetryOptions, retries } from './retry-layer.js';
export { DEFAULT_RETRY_STATUSES, isRetryableError, isRetryableResponse } from './retry-policy.js';
export {
  formatTimeoutHeader,
  MAX_TIMEOUT_MS,
  parseTimeoutHeader,
  TIMEOUT_HEADER,
  UNPROCESSED_HEADER,
} from './timeout-header.js';
