import type { RequestContext } from '../context.js';
import { ErrorCode, TrellisError } from '../errors.js';

/** Failures that happen before any byte of the request can have reached the server. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Certificate and handshake failures: the peer could not be trusted, so nothing was sent. */
const TLS_FAILURES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/**
 * Turns a transport failure into a {@link TrellisError}. `details.requestSent` is false only when
 * the request provably never reached the server, which is what makes a non-idempotent request
 * safe to retry.
 */
export function toTransportError(err: unknown, ctx: RequestContext): TrellisError {
  if (err instanceof TrellisError) return err;
  const code = (err as { code?: string } | null)?.code ?? '';
  const name = (err as { name?: string } | null)?.name ?? '';
  const endpoint = ctx.endpoint?.id;
  const where = `${ctx.method} ${ctx.service}${ctx.path}${endpoint ? ` via ${endpoint}` : ''}`;
  const tls = TLS_FAILURES.has(code);
  const details = {
    service: ctx.service,
    endpoint,
    requestSent: !(tls || NOT_SENT.has(code)),
    cause: code || name,
  };
  if (tls) {
    return new TrellisError(
      ErrorCode.TlsFailed,
      `${where}: TLS failed (${code}): ${(err as Error).message}. Check the CA, the client certificate and the ` +
        'expected server identity.',
      { cause: err, details },
    );
  }
  if (code === 'UND_ERR_ABORTED' || name === 'AbortError') {
    return new TrellisError(ErrorCode.Aborted, `${where} was aborted by the caller.`, {
      cause: err,
      details,
    });
  }
  if (TIMEOUTS.has(code)) {
    return new TrellisError(
      ErrorCode.DeadlineExceeded,
      `${where} timed out waiting for the upstream (${code}).`,
      {
        cause: err,
        details,
      },
    );
  }
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_INVALID_ARG_VALUE') {
    return new TrellisError(ErrorCode.InvalidRequest, `${where} is malformed: ${(err as Error).message}`, {
      cause: err,
      details,
    });
  }
  const reason = (err as Error | null)?.message ?? String(err);
  return new TrellisError(
    ErrorCode.UpstreamUnavailable,
    `${where} failed: ${reason}${code ? ` (${code})` : ''}. The endpoint may be down or overloaded.`,
    { cause: err, details },
  );
}
