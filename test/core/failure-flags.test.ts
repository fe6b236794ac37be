import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import { ErrorCode, TrellisError } from '../../src/core/errors.js';
import {
  FailureFlag,
  isFailedStatus,
  isUpstreamFailure,
  responseFlags,
  UNPROCESSED_HEADER,
} from '../../src/core/failure-flags.js';
import type { MeshResponse } from '../../src/core/layer.js';
import { errorFlags, isLocalError, upstreamFailure, upstreamRejected } from '../../src/core/outcome.js';
import { isRetryableError, isRetryableResponse } from '../../src/resilience/retry-policy.js';
import { errorCell, responseCell } from '../../src/telemetry/outcome-class.js';

const { Failed, Local, Interrupted, Rejected, NotSent, Retryable, Transient } = FailureFlag;

/** The flags every code carries with no details: the one table, read back through `err.flags`. */
const EXPECTED: Record<ErrorCode, number> = {
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
  TRELLIS_TLS_FAILED: Failed,
  TRELLIS_TLS_CLIENT_REJECTED: Failed | Local,
};

// The decisions as each layer made them on its own before the flags (kept here as the oracle):
// the flags must reproduce every one of them.
const LOCAL = new Set<string>([
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
  ErrorCode.TlsClientRejected,
]);
const wasLocal = (e: unknown) => e instanceof TrellisError && LOCAL.has(e.code);
const wasUpstreamFailure = (r: MeshResponse | undefined, e: unknown) =>
  r !== undefined ? r.statusCode >= 500 : !wasLocal(e);
const wasRejected = (r: MeshResponse | undefined, e: unknown) =>
  r !== undefined
    ? r.statusCode === 429 || r.statusCode === 503
    : e instanceof TrellisError &&
      (e.code === ErrorCode.DeadlineExceeded || e.code === ErrorCode.UpstreamUnavailable);
function wasRetryableError(e: unknown, ctx: RequestContext): boolean {
  if (!(e instanceof TrellisError)) return false;
  if (e.code === ErrorCode.UpstreamUnavailable) return ctx.idempotent || e.details.requestSent === false;
  if (e.code === ErrorCode.DeadlineExceeded)
    return ctx.idempotent && e.details.cause === 'UND_ERR_HEADERS_TIMEOUT';
  return false;
}
function wasRetryableResponse(r: MeshResponse, ctx: RequestContext, statuses: ReadonlySet<number>): boolean {
  if (r.statusCode < 500 && r.statusCode !== 429) return false;
  if (ctx.idempotent && statuses.has(r.statusCode)) return true;
  return r.statusCode === 503 && r.headers[UNPROCESSED_HEADER] !== undefined;
}
const wasErrorCell = (e: unknown) =>
  (e instanceof TrellisError && e.code === ErrorCode.Aborted ? 3 : wasLocal(e) ? 2 : 1) * 6 + 5;

const codes = Object.values(ErrorCode);

const error = fc.oneof(
  fc
    .record({
      code: fc.constantFrom(...codes),
      requestSent: fc.option(fc.boolean(), { nil: undefined }),
      cause: fc.constantFrom(
        'UND_ERR_HEADERS_TIMEOUT',
        'UND_ERR_BODY_TIMEOUT',
        'UND_ERR_SOCKET',
        'aborted',
        '',
      ),
    })
    .map(
      ({ code, requestSent, cause }) => new TrellisError(code, 'failed', { details: { requestSent, cause } }),
    ),
  fc.constantFrom(new Error('plain'), new TypeError('type'), 'a string', undefined, null),
);

const response = fc.record({ status: fc.integer({ min: 100, max: 599 }), unprocessed: fc.boolean() }).map(
  ({ status, unprocessed }) =>
    ({
      statusCode: status,
      headers: unprocessed ? { [UNPROCESSED_HEADER]: '1' } : {},
    }) as unknown as MeshResponse,
);

const context = fc
  .record({
    method: fc.constantFrom('GET', 'PUT', 'POST', 'PATCH'),
    marked: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map(({ method, marked }) => new RequestContext({ service: 's', method, path: '/', idempotent: marked }));

const statuses = fc.subarray([429, 500, 502, 503, 504]).map((list) => new Set(list));

describe('failure flags', () => {
  it('gives every error code its flags, computed once when the error is made', () => {
    for (const code of codes) {
      const err = new TrellisError(code, 'x');
      expect(err.flags, code).toBe(EXPECTED[code]);
      expect(errorFlags(err)).toBe(err.flags);
    }
    expect(Object.keys(EXPECTED).sort()).toEqual([...codes].sort());
  });

  it('marks what never left the mesh NotSent, an unsent unreachable upstream Retryable, an attempt timeout Transient', () => {
    const unsent = new TrellisError(ErrorCode.UpstreamUnavailable, 'x', { details: { requestSent: false } });
    expect(unsent.flags).toBe(Failed | Rejected | Transient | NotSent | Retryable);
    const tls = new TrellisError(ErrorCode.TlsFailed, 'x', { details: { requestSent: false } });
    expect(tls.flags).toBe(Failed | NotSent);
    const attempt = new TrellisError(ErrorCode.DeadlineExceeded, 'x', {
      details: { cause: 'UND_ERR_HEADERS_TIMEOUT' },
    });
    expect(attempt.flags).toBe(Failed | Rejected | Transient);
    expect(errorFlags(new Error('not ours'))).toBe(Failed);
  });

  it('reads a response: 5xx Failed, 429 and 503 Rejected, 503 unprocessed Retryable', () => {
    const res = (statusCode: number, headers = {}) => ({ statusCode, headers }) as unknown as MeshResponse;
    expect(responseFlags(res(200))).toBe(0);
    expect(responseFlags(res(404))).toBe(0);
    expect(responseFlags(res(429))).toBe(Rejected);
    expect(responseFlags(res(500))).toBe(Failed);
    expect(responseFlags(res(503))).toBe(Failed | Rejected);
    expect(responseFlags(res(503, { [UNPROCESSED_HEADER]: '1' }))).toBe(Failed | Rejected | Retryable);
    expect(responseFlags(res(502, { [UNPROCESSED_HEADER]: '1' }))).toBe(Failed);
  });

  it('every layer decides as it did before, now from the flags alone', () => {
    fc.assert(
      fc.property(error, response, context, statuses, (err, res, ctx, retried) => {
        // breaker (upstreamFailure), health, and the balance layer's per-endpoint failure count
        // (isFailedStatus for an answer, isUpstreamFailure for an error): Failed and not Local
        expect(upstreamFailure(undefined, err)).toBe(wasUpstreamFailure(undefined, err));
        expect(upstreamFailure(res, undefined)).toBe(wasUpstreamFailure(res, undefined));
        expect(isUpstreamFailure(errorFlags(err))).toBe(wasUpstreamFailure(undefined, err));
        expect(isUpstreamFailure(responseFlags(res))).toBe(wasUpstreamFailure(res, undefined));
        expect(isFailedStatus(res.statusCode)).toBe(wasUpstreamFailure(res, undefined));
        // adaptive throttle and concurrency limits: Rejected; Local
        expect(upstreamRejected(undefined, err)).toBe(wasRejected(undefined, err));
        expect(upstreamRejected(res, undefined)).toBe(wasRejected(res, undefined));
        expect(isLocalError(err)).toBe(wasLocal(err));
        // retry: Retryable, or Transient for an idempotent request
        expect(isRetryableError(err, ctx)).toBe(wasRetryableError(err, ctx));
        expect(isRetryableResponse(res, ctx, retried)).toBe(wasRetryableResponse(res, ctx, retried));
        // metrics' outcome label: Interrupted is cancelled, Local is rejected
        expect(errorCell(err)).toBe(wasErrorCell(err));
        expect(Math.floor(responseCell(res) / 6)).toBe(res.statusCode >= 500 ? 1 : 0);
        // balance, hedge and tracing: a good answer is one that is not Failed
        expect((responseFlags(res) & Failed) === 0).toBe(res.statusCode < 500);
        expect(errorFlags(err) & Failed).toBe(Failed);
      }),
      { numRuns: 2000 },
    );
  });
});
