/**
 * Stable error codes. A code never changes meaning once released; match on `err.code`, not on
 * the message.
 */
export const ErrorCode = {
  /** The builder was given invalid configuration; `details` lists every problem. */
  InvalidConfig: 'TRELLIS_INVALID_CONFIG',
  /** A request named a service the mesh does not know. */
  UnknownService: 'TRELLIS_UNKNOWN_SERVICE',
  /** Discovery has published no usable endpoint for the service. */
  NoEndpoints: 'TRELLIS_NO_ENDPOINTS',
  /** Discovery returned data that could not be parsed; the last good set is kept. */
  InvalidDiscoveryData: 'TRELLIS_INVALID_DISCOVERY_DATA',
  /** A resolver failed to resolve; the last good set is kept. */
  DiscoveryFailed: 'TRELLIS_DISCOVERY_FAILED',
  /** The request was made after `mesh.close()`. */
  MeshClosed: 'TRELLIS_MESH_CLOSED',
  /** The request itself is malformed (bad path, header or body); fix the call. */
  InvalidRequest: 'TRELLIS_INVALID_REQUEST',
  /** The request asked for something the mesh cannot carry (for example CONNECT or upgrade). */
  Unsupported: 'TRELLIS_UNSUPPORTED',
  /** The request's deadline passed before an answer arrived. */
  DeadlineExceeded: 'TRELLIS_DEADLINE_EXCEEDED',
  /** The caller aborted the request. */
  Aborted: 'TRELLIS_ABORTED',
  /** The service's circuit breaker is open: the call failed fast. */
  CircuitOpen: 'TRELLIS_CIRCUIT_OPEN',
  /** The concurrency limit and its queue are full: the call was shed locally. */
  ConcurrencyLimited: 'TRELLIS_CONCURRENCY_LIMITED',
  /** The client-side rate limit or adaptive throttle rejected the call. */
  RateLimited: 'TRELLIS_RATE_LIMITED',
  /** A fault was injected on purpose by a routing rule. */
  FaultInjected: 'TRELLIS_FAULT_INJECTED',
  /** The upstream could not be reached or the connection failed. */
  UpstreamUnavailable: 'TRELLIS_UPSTREAM_UNAVAILABLE',
  /** An `https:` request addressed a service whose transport has no TLS; it was not sent. */
  TlsRequired: 'TRELLIS_TLS_REQUIRED',
  /** A TLS handshake or peer identity check failed. */
  TlsFailed: 'TRELLIS_TLS_FAILED',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options for {@link TrellisError}. */
export interface TrellisErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Structured facts about the failure (problem list, service name, endpoint...). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type trellis throws. `code` is stable; `message` says what went wrong and what to
 * do about it.
 */
export class TrellisError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ErrorCode;
  /** Structured facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @param code - one of {@link ErrorCode}
   * @param message - what happened and what to do about it
   * @param options - cause and details
   */
  constructor(code: ErrorCode, message: string, options: TrellisErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrellisError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `err` is a {@link TrellisError}, optionally with the given code. */
export function isTrellisError(err: unknown, code?: ErrorCode): err is TrellisError {
  return err instanceof TrellisError && (code === undefined || err.code === code);
}
