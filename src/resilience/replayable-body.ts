import { Readable } from 'node:stream';
import type { RequestBody } from '../core/context.js';

/** Whether a body can be sent again as it is: absent, a string or bytes. */
export function isReplayable(body: RequestBody): boolean {
  return body == null || typeof body === 'string' || body instanceof Uint8Array;
}

/** A body made replayable where it could be, and whether it is. */
export interface PreparedBody {
  /** The body to send (buffered, or the original stream re-assembled). */
  body: RequestBody;
  /** Whether `body` may be sent more than once. */
  replayable: boolean;
}

async function* prefixed(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

/**
 * Reads a streaming body into memory when it ends within `limitBytes`, so it can be replayed on
 * a retry (as linkerd does, 64 KiB by default). A longer body is sent as one stream (what was
 * read, then the rest) and is never replayed: a half-consumed stream cannot be sent again.
 */
export async function bufferBody(body: RequestBody, limitBytes: number): Promise<PreparedBody> {
  if (isReplayable(body)) return { body, replayable: true };
  const stream = body as AsyncIterable<Uint8Array>;
  const iterator = stream[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let size = 0;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    size += chunk.byteLength;
    if (size > limitBytes)
      return { body: Readable.from(prefixed(head, iterator), { objectMode: false }), replayable: false };
  }
  return { body: Buffer.concat(head), replayable: true };
}
