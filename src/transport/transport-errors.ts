import { errors } from 'undici';
import type { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { fromRequestBody, requestBodyFailed } from './request-body.js';

/** Failures that happen before any byte of the request can have reached the server. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  // undici throws this when a request is dispatched to a pool that is already closing.
  'UND_ERR_CLOSED',
]);

/** The pool was closed under the request: the mesh closed, or the endpoint left discovery. */
const POOL_CLOSED = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** What OpenSSL reports when the endpoint answers the handshake with something that is not TLS. */
const NOT_TLS = 'ERR_SSL_WRONG_VERSION_NUMBER';

/**
 * The endpoint's certificate failed our verification (OpenSSL's verify codes, and Node's name
 * check), or it answered something that is not TLS: nothing was sent. Counted as that
 * endpoint's failure, as Envoy counts it as a connect failure, so an endpoint with a bad
 * certificate is ejected while the others keep serving; not retried (see `isRetryableError`).
 */
const TLS_FAILURES: ReadonlySet<string> = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  // A certificate whose extended key usage does not allow serving TLS (clientAuth only).
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  NOT_TLS,
]);

/**
 * TLS alerts by which the endpoint refused our client certificate (none sent, an unknown CA, an
 * expired or unsuitable one). Under TLS 1.3 they arrive after the handshake, on the first read
 * (see `keepTlsAlert`). Our configuration is at fault, the same for every endpoint: a local
 * failure that ejects nothing and is not retried.
 */
const CLIENT_REJECTED: ReadonlySet<string> = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  // OpenSSL before 3.2 (Node 20 and 22) names the SSLv3-era alerts so; 3.2 and later "SSL/TLS".
  ...[
    'BAD_CERTIFICATE',
    'UNSUPPORTED_CERTIFICATE',
    'CERTIFICATE_REVOKED',
    'CERTIFICATE_EXPIRED',
    'CERTIFICATE_UNKNOWN',
  ].flatMap((alert) => [`ERR_SSL_SSLV3_ALERT_${alert}`, `ERR_SSL_SSL/TLS_ALERT_${alert}`]),
]);

/** `METHOD service/path via endpoint`, how failure messages name a request. */
function describeRequest(ctx: RequestContext): string {
  const endpoint = ctx.endpoint?.id;
  return `${ctx.method} ${ctx.service}${ctx.path}${endpoint ? ` via ${endpoint}` : ''}`;
}

/**
 * The error a request cancelled by its signal fails with: the signal's reason when it is already a
 * `TrellisError` (a deadline, a lost hedge race), else `TRELLIS_ABORTED` with the caller's reason
 * as its cause, so an abort reads the same in every phase (connecting, queued, waiting, streaming).
 */
export function abortedError(reason: unknown, ctx: RequestContext, sent: boolean): TrellisError {
  if (reason instanceof TrellisError) return reason;
  return new TrellisError(ErrorCode.Aborted, `${describeRequest(ctx)} was aborted by the caller.`, {
    cause: reason,
    details: { service: ctx.service, endpoint: ctx.endpoint?.id, requestSent: sent, cause: 'aborted' },
  });
}

/**
 * Turns a transport failure into a {@link TrellisError}. `details.requestSent` is false only when
 * the request provably never reached the server, which is what makes a non-idempotent request
 * safe to retry.
 */
export function toTransportError(err: unknown, ctx: RequestContext): TrellisError {
  if (err instanceof TrellisError) return err;
  // DOMException (an AbortSignal's reason) has a numeric code; only undici's and Node's string codes count.
  const rawCode = (err as { code?: unknown } | null)?.code;
  const code = typeof rawCode === 'string' ? rawCode : '';
  const name = (err as { name?: string } | null)?.name ?? '';
  const endpoint = ctx.endpoint?.id;
  const where = describeRequest(ctx);
  const tls = TLS_FAILURES.has(code);
  const rejected = CLIENT_REJECTED.has(code);
  const details = {
    service: ctx.service,
    endpoint,
    // A refused client certificate ends the connection before the server reads any request.
    requestSent: !(tls || rejected || NOT_SENT.has(code)),
    cause: code || name,
  };
  if (tls) {
    return new TrellisError(
      ErrorCode.TlsFailed,
      code === NOT_TLS
        ? `${where}: the endpoint did not answer in TLS (${code}). Check that it serves TLS on this port, or ` +
            "drop the service's tls settings if it speaks plain HTTP."
        : `${where}: the endpoint's certificate was not accepted (${code}): ${(err as Error).message}. Check ` +
            "that it chains to the CA in the service's tls settings, is in date, names the expected host or " +
            'identity, and allows server use (extended key usage serverAuth).',
      { cause: err, details },
    );
  }
  if (rejected) {
    return new TrellisError(
      ErrorCode.TlsClientRejected,
      `${where}: the endpoint refused our client certificate (${code}). Check the cert and key in the ` +
        "service's tls settings: one must be given, in date, allow client use (clientAuth), and be signed by a CA " +
        'the endpoint trusts.',
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
  if (POOL_CLOSED.has(code)) {
    return new TrellisError(
      ErrorCode.UpstreamUnavailable,
      `${where} was cut because the endpoint's connection pool closed: the mesh was closed, or the ` +
        'endpoint left discovery and did not finish within the close timeout (see closeTimeout()).',
      { cause: err, details },
    );
  }
  if (fromRequestBody(err, ctx.body)) return requestBodyFailed(err, where, details);
  if (err instanceof errors.HTTPParserError) {
    return new TrellisError(
      ErrorCode.UpstreamUnavailable,
      `${where} failed: the endpoint answered with something that is not valid HTTP: ${err.message}` +
        `${code ? ` (${code})` : ''}. Check that the endpoint speaks HTTP/1.1, or configure TLS if it expects it.`,
      { cause: err, details },
    );
  }
  const reason = (err as Error | null)?.message ?? String(err);
  return new TrellisError(
    ErrorCode.UpstreamUnavailable,
    `${where} failed: ${reason}${code ? ` (${code})` : ''}. The endpoint may be down or overloaded.`,
    { cause: err, details },
  );
}
