import type { RequestContext } from '../core/context.js';
import { FailureFlag, responseFlags } from '../core/failure-flags.js';
import type { MeshResponse } from '../core/layer.js';
import { errorFlags } from '../core/outcome.js';

/** Statuses retried for idempotent requests unless configured otherwise. */
export const DEFAULT_RETRY_STATUSES: readonly number[] = [502, 503, 504];

/**
 * A response that asked for a retry, carried through the retry loop as an error so the loop can
 * treat failed responses and failed connections alike. Never escapes the retry layer.
 */
export class RetryableResponse extends Error {
  /** The response to return if no retry happens. */
  readonly response: MeshResponse;

  /** @param response - the retryable response */
  constructor(response: MeshResponse) {
    super(`retryable status ${response.statusCode}`);
    this.response = response;
  }
}

/**
 * Whether a response should be retried: a configured status for an idempotent request, or the
 * server's explicit "not processed" answer for any request.
 */
export function isRetryableResponse(
  response: MeshResponse,
  ctx: RequestContext,
  statuses: ReadonlySet<number>,
): boolean {
  if (response.statusCode < 500 && response.statusCode !== 429) return false;
  if (ctx.idempotent && statuses.has(response.statusCode)) return true;
  return (responseFlags(response) & FailureFlag.Retryable) !== 0;
}

/**
 * Whether a failed attempt may be retried: transport failures and per-attempt timeouts of
 * idempotent requests, and, for any request, failures that provably happened before a byte
 * reached the server: the `Transient` and `Retryable` failure flags. The request's own
 * deadline, the caller's abort, TLS failures and local decisions (breaker, limits, bad requests)
 * are never retried.
 */
export function isRetryableError(err: unknown, ctx: RequestContext): boolean {
  const flags = errorFlags(err);
  return (flags & FailureFlag.Retryable) !== 0 || (ctx.idempotent && (flags & FailureFlag.Transient) !== 0);
}
