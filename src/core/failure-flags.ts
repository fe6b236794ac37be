import type { ErrorCode } from './errors.js';
import type { MeshResponse } from './layer.js';

/**
 * What an outcome says, as bits (Finagle's `FailureFlags`): computed once, from a
 * `TrellisError`'s code and details when it is made (read them as `err.flags`) or from a
 * response's status, and read by every layer that judges an outcome: retry, hedge, health,
 * breaker, balance, concurrency, metrics and tracing. Numbers, so judging an outcome allocates
 * nothing.
 */
export const FailureFlag = {
  /** Not a good answer: any error, or a 5xx response. */
  Failed: 1,
  /**
   * Raised by the caller or by the mesh itself (an abort, a malformed request, no endpoints, the
   * mesh's own limits): says nothing about the upstream, so no breaker, health check or load
   * metric holds it against one.
   */
  Local: 2,
  /** The caller cancelled the request (or the mesh did for it: a hedge's losing attempt). */
  Interrupted: 4,
  /** The upstream rejected or dropped the call, an overload signal: 429, 503, a timeout, unreachable. */
  Rejected: 8,
  /** The request provably never left the mesh (`details.requestSent === false`). */
  NotSent: 16,
  /**
   * Safe to send again whatever the method: the request never reached the upstream, or the
   * upstream said it did not process it (503 with `trellis-unprocessed`).
   */
  Retryable: 32,
  /** Another attempt may fare better (a transport failure, a per-attempt timeout): retried when the request is idempotent. */
  Transient: 64,
} as const;

/** A combination of {@link FailureFlag} bits. */
export type FailureFlags = number;

/**
 * Signals "this request was not processed, it is safe to retry, even if it is not idempotent".
 * A server sends it with status 503 (for example when shedding load) before doing any work for
 * the request; see `rejectUnprocessed`.
 */
export const UNPROCESSED_HEADER = 'trellis-unprocessed';

const { Failed, Local, Interrupted, Rejected, NotSent, Retryable, Transient } = FailureFlag;

/** The flags each code always carries (every error is `Failed`); typed so that no code is missed. */
const CODE_FLAGS: Readonly<Record<ErrorCode, FailureFlags>> = {
  TRELLIS_INVALID_CONFIG: Failed | Local,
  TRELLIS_UNKNOWN_SERVICE: Failed | Local,
  TRELLIS_NO_ENDPOINTS: Failed | Local,
  TRELLIS_INVALID_DISCOVERY_DATA: Failed,
  TRELLIS_DISCOVERY_FAILED: Failed,
  TRELLIS_MESH_CLOSED: Failed | Local,
  TRELLIS_INVALID_REQUEST: Failed | Local,
  TRELLIS_UNSUPPORTED: Failed | Local,
  TRELLIS_DEADLINE_EXCEEDED: Failed | Rejected,
  TRELLIS_ABORTED: Failed | Local | Interrupted,
  TRELLIS_CIRCUIT_OPEN: Failed | Local,
  TRELLIS_CONCURRENCY_LIMITED: Failed | Local,
  TRELLIS_RATE_LIMITED: Failed | Local,
  TRELLIS_FAULT_INJECTED: Failed | Local,
  TRELLIS_UPSTREAM_UNAVAILABLE: Failed | Rejected | Transient,
  TRELLIS_TLS_REQUIRED: Failed,
  // Not Transient: another attempt meets the same certificate.
  TRELLIS_TLS_FAILED: Failed,
  // The endpoint refused our client certificate: our configuration, which every endpoint refuses alike.
  TRELLIS_TLS_CLIENT_REJECTED: Failed | Local,
};

/** undici's timeout of one attempt's wait for headers (as opposed to the request's own deadline). */
const ATTEMPT_TIMEOUT = 'UND_ERR_HEADERS_TIMEOUT';

/**
 * The flags of a `TrellisError` with this code and these details: called once, by its
 * constructor (read them as `err.flags`). A failure that never left the mesh is `NotSent`; an
 * unreachable upstream that was never sent to is also `Retryable`; an attempt's own headers
 * timeout is `Transient`.
 */
export function codeFlags(
  code: ErrorCode,
  details: { readonly requestSent?: unknown; readonly cause?: unknown },
): FailureFlags {
  let flags = CODE_FLAGS[code] ?? Failed;
  if (details.requestSent === false) {
    flags |= NotSent;
    if (code === 'TRELLIS_UPSTREAM_UNAVAILABLE') flags |= Retryable;
  }
  if (code === 'TRELLIS_DEADLINE_EXCEEDED' && details.cause === ATTEMPT_TIMEOUT) flags |= Transient;
  return flags;
}

/**
 * Whether a status alone makes an answer `Failed` (a 5xx): for code that has the status before
 * a response exists (the transport deciding which answers are judged at their body's end).
 */
export function isFailedStatus(status: number): boolean {
  return status >= 500;
}

/**
 * The flags of a response: a 5xx is `Failed`; 429 and 503 are `Rejected` (overload: other 5xx
 * answers were accepted and processed); a 503 with `trellis-unprocessed` is `Retryable`.
 */
export function responseFlags(response: MeshResponse): FailureFlags {
  const status = response.statusCode;
  if (status < 429) return 0;
  if (status === 429) return Rejected;
  if (!isFailedStatus(status)) return 0;
  if (status !== 503) return Failed;
  return response.headers[UNPROCESSED_HEADER] === undefined
    ? Failed | Rejected
    : Failed | Rejected | Retryable;
}

/** A failure the upstream is to blame for: `Failed` and not `Local` (what breaker, health and metrics count). */
export function isUpstreamFailure(flags: FailureFlags): boolean {
  return (flags & (Failed | Local)) === Failed;
}
