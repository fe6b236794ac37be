import { ErrorCode, isTrellisError } from './errors.js';
import type { MeshResponse } from './layer.js';

/**
 * Error codes that say nothing about the upstream's health: the caller gave up, the request was
 * malformed, or the mesh itself shed the call before sending it. Counting them as upstream
 * failures would let one misbehaving caller, or our own limits, open a breaker.
 */
const LOCAL_CODES: ReadonlySet<string> = new Set([
  ErrorCode.Aborted,
  ErrorCode.InvalidRequest,
  ErrorCode.Unsupported,
  ErrorCode.InvalidConfig,
  ErrorCode.UnknownService,
  ErrorCode.MeshClosed,
  ErrorCode.NoEndpoints,
  ErrorCode.CircuitOpen,
  ErrorCode.ConcurrencyLimited,
  ErrorCode.RateLimited,
  ErrorCode.FaultInjected,
]);

/**
 * Decides whether an outcome counts against the upstream. Exactly one of `response` and `error`
 * is set.
 */
export type FailureClassifier = (response: MeshResponse | undefined, error: unknown) => boolean;

/**
 * The default {@link FailureClassifier}: a 5xx response, or an error other than the local ones
 * (caller abort, malformed request, no endpoints, and the mesh's own rejections: circuit open,
 * concurrency or rate limited, injected fault).
 */
export const upstreamFailure: FailureClassifier = (response, error) => {
  if (response !== undefined) return response.statusCode >= 500;
  return !isLocalError(error);
};

/** Error codes that mean the upstream is overloaded or out of reach. */
const OVERLOAD_CODES: ReadonlySet<string> = new Set([
  ErrorCode.DeadlineExceeded,
  ErrorCode.UpstreamUnavailable,
]);

/**
 * Decides whether the upstream rejected or dropped a call (an overload signal). Exactly one of
 * `response` and `error` is set.
 */
export type RejectionClassifier = (response: MeshResponse | undefined, error: unknown) => boolean;

/**
 * The default {@link RejectionClassifier}: 429 or 503, a timeout, or an unreachable upstream.
 * Other 5xx answers are failures but not overload: the upstream did accept and process the call.
 */
export const upstreamRejected: RejectionClassifier = (response, error) => {
  if (response !== undefined) return response.statusCode === 429 || response.statusCode === 503;
  return isTrellisError(error) && OVERLOAD_CODES.has(error.code);
};

/** True for errors raised by the caller or the mesh itself, which say nothing about the upstream. */
export function isLocalError(error: unknown): boolean {
  return isTrellisError(error) && LOCAL_CODES.has(error.code);
}
