import { codeFlags, type FailureFlags } from './failure-flags.js';

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
  /**
   * The endpoint's certificate failed our checks (untrusted CA, expired, wrong name or identity,
   * not meant for a server), or the endpoint does not speak TLS: the endpoint's failure.
   */
  TlsFailed: 'TRELLIS_TLS_FAILED',
  /**
   * The endpoint refused our client certificate (a TLS alert such as `certificate_required` or
   * `unknown_ca`): our side's configuration, so it does not count against the endpoint.
   */
  TlsClientRejected: 'TRELLIS_TLS_CLIENT_REJECTED',
} as const;

/** One of the `ErrorCode` values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Facts every request-level failure may carry. */
export interface RequestFailureDetails {
  /** The logical service the request was for. */
  readonly service?: string;
  /** The endpoint (`host:port`) of the attempt that failed, when one was chosen. */
  readonly endpoint?: string;
  /** False only when the request provably never reached an upstream (so it is safe to send again). */
  readonly requestSent?: boolean;
  /** Which attempt failed: 1 for the first, 2 for the first retry, ... */
  readonly attempt?: number;
  /** The undici or socket error code (or error name) behind a transport failure. */
  readonly cause?: string;
}

/**
 * What `details` holds for each `ErrorCode`: `isTrellisError(err, ErrorCode.InvalidConfig)`
 * narrows `err` so that `err.details.problems` is a `readonly string[]`. Fields not listed may
 * appear too; read them as `unknown`.
 */
export interface ErrorDetailsByCode {
  /** Every problem found, each a sentence that says what to write instead. */
  TRELLIS_INVALID_CONFIG: {
    /** Every problem, each a sentence that says what to write instead. */
    readonly problems: readonly string[];
  };
  /** Every problem with the call. */
  TRELLIS_INVALID_REQUEST: {
    /** Every problem, each naming the field and what to write instead. */
    readonly problems: readonly string[];
    /** The service the request named, when it named one. */
    readonly service?: string;
  };
  /** The name that matched no service. */
  TRELLIS_UNKNOWN_SERVICE: {
    /** The name that matched no service. */
    readonly service?: string;
    /** A service one typo away from it, if any. */
    readonly suggestion?: string;
  };
  /** The service (one request), the services still waiting (`mesh.ready()`), or a held-back empty update. */
  TRELLIS_NO_ENDPOINTS: RequestFailureDetails & {
    /** `mesh.ready()`: the services with no endpoint yet. */
    readonly waiting?: readonly string[];
    /** True when discovery emptied the set and the last endpoints are kept for a grace period. */
    readonly heldBack?: boolean;
    /** That grace period, in ms. */
    readonly graceMs?: number;
  };
  /** The rejected input. */
  TRELLIS_INVALID_DISCOVERY_DATA: {
    /** What the resolver published for the endpoint. */
    readonly input?: unknown;
  };
  /** The service whose discovery failed. */
  TRELLIS_DISCOVERY_FAILED: {
    /** The service whose discovery failed. */
    readonly service?: string;
  };
  /** Where the request was when the mesh closed. */
  TRELLIS_MESH_CLOSED: RequestFailureDetails;
  /** The request that asked for it. */
  TRELLIS_UNSUPPORTED: RequestFailureDetails;
  /** Where the deadline found the request. */
  TRELLIS_DEADLINE_EXCEEDED: RequestFailureDetails;
  /** Where the abort found the request. */
  TRELLIS_ABORTED: RequestFailureDetails;
  /** The service whose breaker is open. */
  TRELLIS_CIRCUIT_OPEN: RequestFailureDetails;
  /** The limit that shed the call. */
  TRELLIS_CONCURRENCY_LIMITED: RequestFailureDetails & {
    /** Attempts in flight when the call was shed. */
    readonly inflight?: number;
    /** The limit at that moment. */
    readonly limit?: number;
  };
  /** When to try again, if known. */
  TRELLIS_RATE_LIMITED: RequestFailureDetails & {
    /** How long until the rate limit has a token again, in ms. */
    readonly retryAfterMs?: number;
    /** The adaptive throttle's rejection probability. */
    readonly probability?: number;
  };
  /** The routing rule that injected the fault. */
  TRELLIS_FAULT_INJECTED: RequestFailureDetails & {
    /** The name of the routing rule. */
    readonly route?: string;
  };
  /** Where the transport failed. */
  TRELLIS_UPSTREAM_UNAVAILABLE: RequestFailureDetails & {
    /** True when a retry was refused because the service's retry budget is spent. */
    readonly retryBudgetExhausted?: boolean;
  };
  /** The request that asked for TLS. */
  TRELLIS_TLS_REQUIRED: RequestFailureDetails;
  /** Where the handshake or identity check failed. */
  TRELLIS_TLS_FAILED: RequestFailureDetails & {
    /** The host whose identity was checked. */
    readonly host?: string;
    /** The identity the peer presented. */
    readonly presented?: unknown;
    /** The identities that would have been accepted. */
    readonly expected?: readonly string[];
  };
  /** Where the endpoint refused our client certificate. */
  TRELLIS_TLS_CLIENT_REJECTED: RequestFailureDetails;
}

/** The `details` of a {@link TrellisError} with code `C`. */
export type ErrorDetails<C extends ErrorCode = ErrorCode> = ErrorDetailsByCode[C] &
  Readonly<Record<string, unknown>>;

/** `details` as given to the {@link TrellisError} constructor: `problems` may be left out (it then lists the message). */
export type DetailsInit<C extends ErrorCode> = C extends 'TRELLIS_INVALID_CONFIG' | 'TRELLIS_INVALID_REQUEST'
  ? Omit<ErrorDetails<C>, 'problems'> & {
      /** Every problem; the message alone when left out. */
      readonly problems?: readonly string[];
    }
  : ErrorDetails<C>;

/** Options for {@link TrellisError}. */
export interface TrellisErrorOptions<C extends ErrorCode = ErrorCode> {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Structured facts about the failure (see {@link ErrorDetailsByCode}). */
  details?: DetailsInit<C>;
}

/**
 * The one error type trellis throws. `code` is stable; `message` says what went wrong and what to
 * do about it; `details` is typed per code ({@link ErrorDetailsByCode}).
 *
 * Through a `fetch` front-end (`mesh.fetch()`, a wrapped `fetch`, the global dispatcher) a mesh
 * failure reaches the caller as `fetch`'s own `TypeError: fetch failed` with the TrellisError in
 * its `cause`: find it with {@link findTrellisError}.
 *
 * @typeParam C - the error's code
 */
export class TrellisError<C extends ErrorCode = ErrorCode> extends Error {
  /** Stable, machine-readable code. */
  readonly code: C;
  /** Structured facts about the failure. */
  readonly details: ErrorDetails<C>;
  /**
   * What the failure says, as `FailureFlag` bits (retryable, rejected, not sent, local,
   * interrupted...), computed from the code and details when the error is made: the one
   * classification every layer reads.
   */
  readonly flags: FailureFlags;

  /**
   * @param code - one of `ErrorCode`
   * @param message - what happened and what to do about it
   * @param options - cause and details
   */
  constructor(code: C, message: string, options: TrellisErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrellisError';
    this.code = code;
    const details = (options.details ?? {}) as Record<string, unknown>;
    this.details = (
      LISTS_PROBLEMS.has(code) && details.problems === undefined
        ? { ...details, problems: [message] }
        : details
    ) as ErrorDetails<C>;
    this.flags = codeFlags(code, details);
  }
}

/** Codes whose details always list `problems`. */
const LISTS_PROBLEMS: ReadonlySet<string> = new Set([ErrorCode.InvalidConfig, ErrorCode.InvalidRequest]);

/**
 * True when `err` itself is a {@link TrellisError}, optionally with the given code (which narrows
 * `err.details` to that code's fields). A `fetch` front-end wraps mesh failures in
 * `TypeError: fetch failed`: use {@link findTrellisError} there.
 */
export function isTrellisError<C extends ErrorCode = ErrorCode>(
  err: unknown,
  code?: C,
): err is TrellisError<C> {
  return err instanceof TrellisError && (code === undefined || err.code === code);
}

/** How many `cause` links {@link findTrellisError} follows (a guard against cycles). */
const MAX_CAUSE_DEPTH = 8;

/**
 * The {@link TrellisError} that `err` is or was caused by, following `cause` (as `fetch` wraps
 * it: `TypeError: fetch failed` with the mesh's error in `cause`), optionally with the given code.
 *
 * @example
 * ```ts
 * try {
 *   await mesh.fetch('http://users/v1/users/42');
 * } catch (err) {
 *   const failure = findTrellisError(err, ErrorCode.NoEndpoints);
 *   if (failure) console.error(failure.details.service, failure.message);
 * }
 * ```
 */
export function findTrellisError<C extends ErrorCode = ErrorCode>(
  err: unknown,
  code?: C,
): TrellisError<C> | undefined {
  let current = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current != null; depth++) {
    if (current instanceof TrellisError) return isTrellisError(current, code) ? current : undefined;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
