import { Readable } from 'node:stream';
import { offAbort, onAbort } from '../core/cancel-token.js';
import type { RequestBody, RequestContext } from '../core/context.js';
import { invalidBodyError, isWholeBody, requestBodyFailed } from '../transport/request-body.js';
import { abortedError } from '../transport/transport-errors.js';

/** Whether a body can be sent again as it is: absent, a string, bytes or a Blob. */
export function isReplayable(body: RequestBody): boolean {
  return isWholeBody(body);
}

/** A body made replayable where it could be, and whether it is. */
export interface PreparedBody {
  /** The body to send (buffered, or the original stream re-assembled). */
  body: RequestBody;
  /** Whether `body` may be sent more than once. */
  replayable: boolean;
}

type Chunk = Uint8Array | string;

async function* prefixed(
  head: Uint8Array[],
  rest: AsyncIterator<Chunk> | Iterator<Chunk>,
): AsyncGenerator<Chunk> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function iteratorOf(body: AsyncIterable<Chunk> | Iterable<Chunk>): AsyncIterator<Chunk> | Iterator<Chunk> {
  const asyncIterator = (body as AsyncIterable<Chunk>)[Symbol.asyncIterator];
  return typeof asyncIterator === 'function'
    ? asyncIterator.call(body)
    : (body as Iterable<Chunk>)[Symbol.iterator]();
}

/**
 * Reads a streaming body into memory when it ends within `limitBytes`, so it can be replayed on
 * a retry (as linkerd does, 64 KiB by default). A longer body is sent as one stream (what was
 * read, then the rest) and is never replayed: a half-consumed stream cannot be sent again.
 *
 * Reading honours the request's signal (its deadline and the caller's abort): a body that never
 * ends, or an iterable that never yields, fails the request when the signal fires, and the source
 * is released. A body that fails while being read fails the request with `TRELLIS_INVALID_REQUEST`
 * (`details.requestBodyFailed`), the source's error as its cause: the upstream is not at fault.
 * A body of a type that cannot be sent is refused before it is read.
 */
export async function bufferBody(ctx: RequestContext, limitBytes: number): Promise<PreparedBody> {
  const body = ctx.body;
  if (isReplayable(body)) return { body, replayable: true };
  const where = `${ctx.method} ${ctx.service}${ctx.path}`;
  const refused = invalidBodyError(body, where);
  if (refused !== undefined) throw refused;
  const iterator = iteratorOf(body as AsyncIterable<Chunk> | Iterable<Chunk>);
  const signal = ctx.signal;
  let cancel: (() => void) | undefined;
  let aborted: Error | undefined;
  const cancelled =
    signal === undefined
      ? undefined
      : new Promise<never>((_resolve, reject) => {
          cancel = () => {
            aborted = abortedError(signal.reason, ctx, false);
            reject(aborted);
          };
          if (signal.aborted === true) cancel();
          else onAbort(signal, cancel);
        });
  // Never left unhandled when reading ends first.
  cancelled?.catch(() => {});
  const head: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const read = iterator.next();
      const next = cancelled === undefined ? await read : await Promise.race([read, cancelled]);
      if (next.done) return { body: Buffer.concat(head), replayable: true };
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      head.push(chunk);
      size += chunk.byteLength;
      if (size > limitBytes)
        return { body: Readable.from(prefixed(head, iterator), { objectMode: false }), replayable: false };
    }
  } catch (err) {
    if (aborted === undefined || err !== aborted)
      throw requestBodyFailed(err, where, { service: ctx.service, requestSent: false });
    // Cancelled: the source is released (a generator suspended in an await returns when it resumes).
    if (body instanceof Readable) body.destroy();
    else (iterator as AsyncIterator<Chunk>).return?.()?.catch?.(() => {});
    throw err;
  } finally {
    if (signal !== undefined && cancel !== undefined) offAbort(signal, cancel);
  }
}
