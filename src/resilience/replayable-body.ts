import { Readable } from 'node:stream';
import { offAbort, onAbort } from '../core/cancel-token.js';
import type { RequestBody, RequestContext } from '../core/context.js';
import { invalidBodyError, isWholeBody } from '../transport/request-body.js';

/** Whether a body can be sent again as it is: absent, a string, bytes or a Blob. */
export function isReplayable(body: RequestBody): boolean {
  return isWholeBody(body);
}

type Chunk = Uint8Array | string;

function iteratorOf(body: AsyncIterable<Chunk> | Iterable<Chunk>): AsyncIterator<Chunk> | Iterator<Chunk> {
  const asyncIterator = (body as AsyncIterable<Chunk>)[Symbol.asyncIterator];
  return typeof asyncIterator === 'function'
    ? asyncIterator.call(body)
    : (body as Iterable<Chunk>)[Symbol.iterator]();
}

/**
 * A streamed request body (a `Readable` or an (async) iterable) sent as it is produced, with a
 * copy of what has been read kept, up to `limitBytes`, so that a retry can send it again: what
 * was read, then the rest of the source as it comes. The upstream gets each chunk as soon as the
 * caller produces it, chunked when the request has no content-length; nothing is held back.
 * Once more than `limitBytes` have been read the copy is dropped and the body is no longer
 * {@link ReplayableStream.replayable}: a half-consumed stream cannot be sent again.
 *
 * The source is released (a `Readable` destroyed, an iterator returned) when the request's
 * signal fires (its deadline, the caller's abort), so a body that never ends holds nothing.
 */
export class ReplayableStream {
  readonly #body: RequestBody;
  readonly #source: AsyncIterator<Chunk> | Iterator<Chunk>;
  readonly #limit: number;
  readonly #ctx: RequestContext;
  /** The chunks read so far, while they fit in the limit. */
  #kept: Uint8Array[] = [];
  #size = 0;
  #overflowed = false;
  #ended = false;
  #failed = false;
  /** A read of the source that has not settled yet: the next attempt takes its result. */
  #pending: Promise<IteratorResult<Chunk>> | IteratorResult<Chunk> | undefined = undefined;
  /** Which attempt's body reads the source now; an earlier one stops at its next step. */
  #generation = 0;
  readonly #release = (): void => {
    if (this.#ended) return;
    if (this.#body instanceof Readable) this.#body.destroy();
    else (this.#source as AsyncIterator<Chunk>).return?.()?.catch?.(() => {});
  };

  /**
   * @param ctx - the request; its body is the stream, its signal releases the source
   * @param limitBytes - how much of the body is kept for a replay
   * @throws `TrellisError` `TRELLIS_INVALID_REQUEST` for a body of a type that cannot be sent
   */
  constructor(ctx: RequestContext, limitBytes: number) {
    const refused = invalidBodyError(ctx.body, `${ctx.method} ${ctx.service}${ctx.path}`);
    if (refused !== undefined) throw refused;
    this.#ctx = ctx;
    this.#body = ctx.body;
    this.#source = iteratorOf(ctx.body as AsyncIterable<Chunk> | Iterable<Chunk>);
    this.#limit = limitBytes;
    const signal = ctx.signal;
    if (signal === undefined) return;
    if (signal.aborted === true) this.#release();
    else onAbort(signal, this.#release);
  }

  /** Whether the body can be sent again from its start: no more than the limit read, and the source did not fail. */
  get replayable(): boolean {
    return !this.#overflowed && !this.#failed;
  }

  /** The limit this body was kept within, in bytes. */
  get limitBytes(): number {
    return this.#limit;
  }

  /** The body for the next attempt: the chunks read so far, then the rest of the source. */
  attempt(): AsyncIterable<Uint8Array> {
    return this.#chunks(++this.#generation);
  }

  async *#chunks(generation: number): AsyncGenerator<Uint8Array> {
    const kept = this.#kept;
    for (let i = 0; i < kept.length; i++) yield kept[i]!;
    while (!this.#ended && generation === this.#generation) {
      const pending = this.#pending ?? this.#source.next();
      this.#pending = pending;
      let next: IteratorResult<Chunk>;
      try {
        next = await pending;
      } catch (err) {
        if (generation !== this.#generation) return;
        this.#failed = true;
        this.#finish();
        throw err;
      }
      // A retry started meanwhile: it takes this read's result.
      if (generation !== this.#generation) return;
      this.#pending = undefined;
      if (next.done === true) {
        this.#finish();
        return;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      this.#keep(chunk);
      yield chunk;
    }
  }

  #keep(chunk: Uint8Array): void {
    if (this.#overflowed) return;
    this.#size += chunk.byteLength;
    if (this.#size <= this.#limit) this.#kept.push(chunk);
    else {
      this.#overflowed = true;
      this.#kept = [];
    }
  }

  #finish(): void {
    this.#ended = true;
    const signal = this.#ctx.signal;
    if (signal !== undefined) offAbort(signal, this.#release);
  }
}
