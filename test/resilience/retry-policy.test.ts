import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import { ErrorCode, TrellisError } from '../../src/core/errors.js';
import type { MeshResponse } from '../../src/core/layer.js';
import { isRetryableError, isRetryableResponse } from '../../src/resilience/retry-policy.js';
import { UNPROCESSED_HEADER } from '../../src/resilience/timeout-header.js';

const codes = Object.values(ErrorCode);
const methods = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'POST', 'PATCH'];
const statuses = new Set([502, 503, 504]);

const context = fc
  .record({
    method: fc.constantFrom(...methods),
    key: fc.boolean(),
    marked: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map(
    ({ method, key, marked }) =>
      new RequestContext({
        service: 's',
        method,
        path: '/',
        headers: key ? { 'idempotency-key': 'k1' } : {},
        idempotent: marked,
      }),
  );

const failure = fc
  .record({
    code: fc.constantFrom(...codes),
    requestSent: fc.option(fc.boolean(), { nil: undefined }),
    cause: fc.constantFrom('UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET', 'ECONNREFUSED', ''),
  })
  .map(
    ({ code, requestSent, cause }) => new TrellisError(code, 'failed', { details: { requestSent, cause } }),
  );

const answer = fc.record({ status: fc.integer({ min: 200, max: 599 }), unprocessed: fc.boolean() }).map(
  ({ status, unprocessed }) =>
    ({
      statusCode: status,
      headers: unprocessed ? { [UNPROCESSED_HEADER]: '1' } : {},
    }) as unknown as MeshResponse,
);

describe('retry policy', () => {
  it('retries a non-idempotent request only when it provably never reached the server', () => {
    fc.assert(
      fc.property(context, failure, (ctx, err) => {
        if (!ctx.idempotent && isRetryableError(err, ctx)) expect(err.details.requestSent).toBe(false);
      }),
    );
  });

  it('retries a non-idempotent answer only when the server said "not processed" with a 503', () => {
    fc.assert(
      fc.property(context, answer, (ctx, res) => {
        if (!ctx.idempotent && isRetryableResponse(res, ctx, statuses)) {
          expect(res.statusCode).toBe(503);
          expect(res.headers[UNPROCESSED_HEADER]).toBeDefined();
        }
      }),
    );
  });

  it('never retries the request deadline, an abort, a TLS failure or a local decision', () => {
    const never = [
      ErrorCode.Aborted,
      ErrorCode.TlsFailed,
      ErrorCode.CircuitOpen,
      ErrorCode.ConcurrencyLimited,
      ErrorCode.RateLimited,
      ErrorCode.InvalidRequest,
      ErrorCode.MeshClosed,
    ];
    fc.assert(
      fc.property(context, failure, (ctx, err) => {
        if (never.includes(err.code as (typeof never)[number]))
          expect(isRetryableError(err, ctx)).toBe(false);
        if (err.code === ErrorCode.DeadlineExceeded && err.details.cause !== 'UND_ERR_HEADERS_TIMEOUT') {
          expect(isRetryableError(err, ctx)).toBe(false);
        }
      }),
    );
  });

  it('retries any configured status, a 4xx such as 409 included (retries() accepts 400 to 599)', () => {
    const get = new RequestContext({ service: 's', path: '/' });
    const conflict = { statusCode: 409, headers: {} } as unknown as MeshResponse;
    expect(isRetryableResponse(conflict, get, new Set([409]))).toBe(true);
    expect(isRetryableResponse(conflict, get, statuses)).toBe(false);
  });

  it('retries idempotent requests on transport failures and on the configured statuses', () => {
    const get = new RequestContext({ service: 's', path: '/' });
    expect(
      isRetryableError(
        new TrellisError(ErrorCode.UpstreamUnavailable, 'reset', { details: { requestSent: true } }),
        get,
      ),
    ).toBe(true);
    expect(
      isRetryableResponse({ statusCode: 503, headers: {} } as unknown as MeshResponse, get, statuses),
    ).toBe(true);
    expect(
      isRetryableResponse({ statusCode: 500, headers: {} } as unknown as MeshResponse, get, statuses),
    ).toBe(false);
  });
});
