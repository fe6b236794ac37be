import { jitteredBackoff, parseRetryAfter } from '../core/backoff.js';
import type { RequestContext } from '../core/context.js';
import { FailureFlag, type FailureFlags, responseFlags } from '../core/failure-flags.js';
import type { MeshResponse } from '../core/layer.js';
import { errorFlags } from '../core/outcome.js';

/** Statuses retried for idempotent requests unless configured otherwise. */
export const DEFAULT_RETRY_STATUSES: readonly number[] = [502, 503, 504];

/** The longest `Retry-After` the default policy waits for unless configured otherwise, in ms. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 2000;

/**
 * Which attempts the `retry` layer sends again, and how long it waits first (tower's `Policy`).
 * Pass one as `retries({ policy })`; {@link defaultRetryPolicy} is the policy used otherwise,
 * and a custom policy can delegate to it. Whatever the policy says, the layer keeps the limits
 * that make a retry safe: at most `retries` retries, none past the request's deadline, each
 * paid from the retry budget, and only for bodies it can send again (whole bodies, or streamed
 * ones no longer than `maxBufferBytes`).
 *
 * Both methods get the outcome of the attempt that just ended: exactly one of `response` and
 * `error` is set, and `ctx.attempt` is that attempt's number (1 for the first).
 *
 * @example
 * ```ts
 * const standard = defaultRetryPolicy();
 * // Also retry a POST the upstream answered 503 (it promises those did nothing).
 * const policy: RetryPolicy = {
 *   shouldRetry: (ctx, response, error, flags) =>
 *     (ctx.method === 'POST' && response?.statusCode === 503) || standard.shouldRetry(ctx, response, error, flags),
 *   delayMs: (ctx, response, error, retry) => standard.delayMs(ctx, response, error, retry),
 * };
 * s.layer(retries({ policy }));
 * ```
 */
export interface RetryPolicy {
  /**
   * Whether to send the request again after this outcome. Called for every attempt that ends,
   * successful ones included, so keep it cheap. `flags` are the outcome's failure flags
   * (`FailureFlag`): `Retryable` (safe whatever the method), `Transient` (worth another attempt
   * when idempotent), `NotSent`, `Rejected`... The mesh's own failures are `TrellisError`s;
   * p-retry, which runs the retries after the first, does not retry a thrown value that is not
   * an `Error`, nor a `TypeError` other than a network error.
   */
  shouldRetry(
    ctx: RequestContext,
    response: MeshResponse | undefined,
    error: unknown,
    flags: FailureFlags,
  ): boolean;
  /**
   * How long to wait before retry number `retry` (1 for the first), in ms, or `undefined` to
   * give up after all: the outcome is then returned (or thrown) as it is. A wait that would
   * outlast the request's deadline gives up too.
   */
  delayMs(
    ctx: RequestContext,
    response: MeshResponse | undefined,
    error: unknown,
    retry: number,
  ): number | undefined;
}

/** Options for {@link defaultRetryPolicy}; `retries()` takes the same ones. */
export interface DefaultRetryPolicyOptions {
  /**
   * Backoff cap for the first retry in ms (doubling per retry, full jitter).
   *
   * @defaultValue 5
   */
  backoffBaseMs?: number;
  /**
   * Backoff cap for any retry in ms.
   *
   * @defaultValue 200
   */
  backoffMaxMs?: number;
  /**
   * Response statuses retried for idempotent requests.
   *
   * @defaultValue 502, 503 and 504
   */
  statuses?: readonly number[];
  /**
   * The longest `Retry-After` waited for, in ms. A response asking for a longer wait, or for one
   * that would outlast the request's deadline, is not retried: it is returned as it is,
   * `Retry-After` included, so no caller is held for as long as an upstream asks.
   *
   * @defaultValue 2000
   */
  maxRetryAfterMs?: number;
  /**
   * Random source in [0, 1) for the jitter (for tests).
   *
   * @defaultValue `Math.random`
   */
  random?: () => number;
}

/**
 * Whether a response should be retried: a configured status for an idempotent request, or the
 * server's explicit "not processed" answer (the `Retryable` flag) for any request.
 */
export function isRetryableResponse(
  response: MeshResponse,
  ctx: RequestContext,
  statuses: ReadonlySet<number>,
): boolean {
  if (response.statusCode < 400) return false;
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
  // TLS failures are not retried (their flags carry neither Retryable nor Transient).
  // TRELLIS_TLS_FAILED (the endpoint's certificate failed our checks) counts against that
  // endpoint, so the health layer ejects it as Envoy does a failed connect, and the balancer stops
  // choosing it; a retry now could meet the same endpoint, and a certificate problem is most often
  // a CA or identity mismatch in our configuration that every endpoint shares.
  // TRELLIS_TLS_CLIENT_REJECTED is our own certificate: every endpoint refuses it alike.
  return isRetryableFlags(errorFlags(err), ctx);
}

function isRetryableFlags(flags: FailureFlags, ctx: RequestContext): boolean {
  return (flags & FailureFlag.Retryable) !== 0 || (ctx.idempotent && (flags & FailureFlag.Transient) !== 0);
}

/** The policy `retries()` uses unless given one: see {@link defaultRetryPolicy}. */
class DefaultRetryPolicy implements RetryPolicy {
  readonly #statuses: ReadonlySet<number>;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #random: () => number;

  constructor(options: DefaultRetryPolicyOptions) {
    this.#statuses = new Set(options.statuses ?? DEFAULT_RETRY_STATUSES);
    this.#baseMs = options.backoffBaseMs ?? 5;
    this.#maxMs = options.backoffMaxMs ?? 200;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.#random = options.random ?? Math.random;
  }

  shouldRetry(
    ctx: RequestContext,
    response: MeshResponse | undefined,
    _error: unknown,
    flags: FailureFlags,
  ): boolean {
    return response !== undefined
      ? isRetryableResponse(response, ctx, this.#statuses)
      : isRetryableFlags(flags, ctx);
  }

  delayMs(
    _ctx: RequestContext,
    response: MeshResponse | undefined,
    _error: unknown,
    retry: number,
  ): number | undefined {
    if (response !== undefined) {
      const after = parseRetryAfter(response.headers['retry-after'], Date.now());
      if (after !== undefined) return after > this.#maxRetryAfterMs ? undefined : after;
    }
    return jitteredBackoff(retry, this.#baseMs, this.#maxMs, this.#random());
  }
}

/**
 * The default {@link RetryPolicy}. It retries an idempotent request (RFC 9110 methods, an
 * `Idempotency-Key` header, or the caller's say) after a transport failure, a per-attempt
 * timeout or one of `statuses`, and any request that provably never reached the server or that
 * the server answered "not processed" (`rejectUnprocessed`). It waits the server's
 * `Retry-After` (up to `maxRetryAfterMs`, else it gives up) or a jittered exponential backoff.
 */
export function defaultRetryPolicy(options: DefaultRetryPolicyOptions = {}): RetryPolicy {
  return new DefaultRetryPolicy(options);
}
