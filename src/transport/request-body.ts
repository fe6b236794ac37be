import { Readable } from 'node:stream';
import { errors } from 'undici';
import type { RequestBody } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';

/** What a request body may be, as the refusal of any other value says it. */
export const ACCEPTED_BODIES =
  'a string, a Buffer or other Uint8Array/ArrayBufferView, an ArrayBuffer, a Blob, a Readable stream, ' +
  'or an (async) iterable of Uint8Array or string chunks';

/** True for a body that is whole in memory and can be sent again as it is. */
export function isWholeBody(body: unknown): boolean {
  return (
    body == null ||
    typeof body === 'string' ||
    ArrayBuffer.isView(body) ||
    body instanceof ArrayBuffer ||
    body instanceof Blob
  );
}

/** True for a body that is read as it is sent: a stream or an (async) iterable of chunks. */
export function isStreamedBody(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false;
  return (
    typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
    typeof (body as Iterable<unknown>)[Symbol.iterator] === 'function'
  );
}

/**
 * The refusal for a body of a type the transport cannot send (a number, a boolean, a plain
 * object...), or `undefined` for an acceptable one. undici would fail on such a body deep in the
 * send, with a message that does not name the call's mistake.
 */
export function invalidBodyError(body: unknown, where: string): TrellisError | undefined {
  if (isWholeBody(body) || isStreamedBody(body)) return undefined;
  const kind = Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body;
  return new TrellisError(
    ErrorCode.InvalidRequest,
    `${where}: a request body cannot be ${kind === 'object' ? 'a plain object' : kind}; send ${ACCEPTED_BODIES} ` +
      '(serialise objects yourself, for example with JSON.stringify).',
    { details: { requestSent: false, bodyType: kind } },
  );
}

/** Socket errors undici also destroys a body stream with while it is being sent. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether `err` came from the caller's own request body stream rather than from the network.
 * A Readable records the error it failed with, but undici also destroys a body it is sending
 * with the socket's error, so undici's and socket errors are ruled out by code. For other
 * streamed bodies (async iterables) the error is the caller's when it carries no string code,
 * since every undici and socket error has one (except undici's HTTP parser error, ruled out by
 * type).
 */
export function fromRequestBody(err: unknown, body: RequestBody): boolean {
  if (body == null || isWholeBody(body) || err instanceof errors.HTTPParserError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (body instanceof Readable) {
    return (
      body.errored === err &&
      !(typeof code === 'string' && (code.startsWith('UND_ERR_') || NETWORK_CODES.has(code)))
    );
  }
  return typeof code !== 'string';
}

/** The error for a request body that failed on the caller's side: not the endpoint's fault. */
export function requestBodyFailed(
  err: unknown,
  where: string,
  details: Record<string, unknown>,
): TrellisError {
  const reason = (err as Error | null)?.message ?? String(err);
  return new TrellisError(
    ErrorCode.InvalidRequest,
    `${where} was cut because its request body stream failed: ${reason}. ` +
      'The upstream is not at fault; fix or retry the body source.',
    { cause: err, details: { ...details, requestBodyFailed: true } },
  );
}
