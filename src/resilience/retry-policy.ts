import type { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { MeshResponse } from '../core/layer.js';
import { UNPROCESSED_HEADER } from './timeout-header.js';

/** Statuses retried for idempotent requests unless configured otherwise. */
export const DEFAULT_RETRY_STATUSES: readonly number[] = [502, 503, 504];

/** Transport timeouts of one attempt (as opposed to the request's own deadline). */
const ATTEMPT_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT']);

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

/** Whether the server said it did not process the request (503 plus `trellis-unprocessed`). */
export function isUnprocessed(response: MeshResponse): boolean {
  return response.statusCode === 503 && response.headers[UNPROCESSED_HEADER] !== undefined;
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
  return isUnprocessed(response);
}

/**
 * Whether a failed attempt may be retried: transport failures and per-attempt timeouts of
 * idempotent requests, and, for any request, failures that provably happened before a byte
 * reached the server (`details.requestSent === false`). The request's own deadline, the
 * caller's abort, TLS failures and local decisions (breaker, limits, bad requests) are never
 * retried.
 */
export function isRetryableError(err: unknown, ctx: RequestContext): boolean {
  if (!(err instanceof TrellisError)) return false;
  switch (err.code) {
    // TLS failures (a wrong peer identity, an untrusted certificate) are not retried: another
    // attempt meets the same certificate.
    case ErrorCode.UpstreamUnavailable:
      return ctx.idempotent || err.details.requestSent === false;
    case ErrorCode.DeadlineExceeded:
      return ctx.idempotent && ATTEMPT_TIMEOUTS.has(err.details.cause as string);
    default:
      return false;
  }
}
