import { describe, expect, it } from 'vitest';
import { ErrorCode, RequestContext, TrellisError } from '../../src/index.js';
import { toTransportError } from '../../src/transport/transport-errors.js';

function withCode(code: string, message = 'failure'): Error {
  return Object.assign(new Error(message), { code });
}

const ctx = new RequestContext({ service: 'users', method: 'POST', path: '/v1/users' });

// Error objects shaped like the ones undici and Node raise; the network tests produce the real ones.
describe('toTransportError', () => {
  it.each([
    ['ECONNREFUSED', ErrorCode.UpstreamUnavailable, false],
    ['UND_ERR_CONNECT_TIMEOUT', ErrorCode.UpstreamUnavailable, false],
    ['UND_ERR_CLOSED', ErrorCode.UpstreamUnavailable, false],
    ['UND_ERR_DESTROYED', ErrorCode.UpstreamUnavailable, true],
    ['ECONNRESET', ErrorCode.UpstreamUnavailable, true],
    ['UND_ERR_SOCKET', ErrorCode.UpstreamUnavailable, true],
    ['UND_ERR_HEADERS_TIMEOUT', ErrorCode.DeadlineExceeded, true],
    ['UND_ERR_BODY_TIMEOUT', ErrorCode.DeadlineExceeded, true],
    ['UND_ERR_ABORTED', ErrorCode.Aborted, true],
    ['UND_ERR_INVALID_ARG', ErrorCode.InvalidRequest, true],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', ErrorCode.TlsFailed, false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', ErrorCode.TlsFailed, false],
    ['INVALID_PURPOSE', ErrorCode.TlsFailed, false],
    ['CERT_HAS_EXPIRED', ErrorCode.TlsFailed, false],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', ErrorCode.TlsClientRejected, false],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', ErrorCode.TlsClientRejected, false],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', ErrorCode.TlsClientRejected, false],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', ErrorCode.TlsClientRejected, false],
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', ErrorCode.TlsClientRejected, false],
  ])('maps %s to %s with requestSent %s', (code, expected, sent) => {
    const err = toTransportError(withCode(code), ctx);
    expect(err.code).toBe(expected);
    expect(err.details.requestSent).toBe(sent);
    expect(err.message).toMatch(/^POST users\/v1\/users/);
  });

  it('names what to check for each kind of TLS failure', () => {
    expect(toTransportError(withCode('INVALID_PURPOSE'), ctx).message).toMatch(/serverAuth/);
    expect(toTransportError(withCode('ERR_SSL_WRONG_VERSION_NUMBER'), ctx).message).toMatch(
      /did not answer in TLS.*serves TLS on this port/,
    );
    expect(toTransportError(withCode('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), ctx).message).toMatch(
      /refused our client certificate.*signed by a CA the endpoint trusts/,
    );
  });

  it("treats an AbortSignal's DOMException reason, whose code is a number, as an abort", () => {
    const reason = new DOMException('This operation was aborted', 'AbortError');
    expect(toTransportError(reason, ctx).code).toBe(ErrorCode.Aborted);
  });

  it('passes a TrellisError through unchanged', () => {
    const original = new TrellisError(ErrorCode.CircuitOpen, 'open');
    expect(toTransportError(original, ctx)).toBe(original);
  });

  it('keeps the original error as the cause', () => {
    const cause = withCode('ECONNRESET');
    expect(toTransportError(cause, ctx).cause).toBe(cause);
  });
});
