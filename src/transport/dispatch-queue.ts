import type { Dispatcher } from 'undici';

/**
 * A dispatch handler of the mesh's own that can wait in a {@link DispatchQueue} and leave it when
 * it is cancelled (`ResponseHandler`, `RelayBody`).
 */
export interface QueueableHandler {
  /** Its place in a queue while it waits for a connection; set and cleared by the queue. */
  queued: QueuedDispatch | undefined;
}

function isQueueable(handler: object): handler is QueueableHandler {
  return 'queued' in handler;
}

/** One request waiting for a connection: a node of a {@link DispatchQueue}. */
export class QueuedDispatch {
  prev: QueuedDispatch | undefined = undefined;
  next: QueuedDispatch | undefined = undefined;

  constructor(
    readonly queue: DispatchQueue,
    readonly options: Dispatcher.DispatchOptions,
    readonly handler: Dispatcher.DispatchHandler,
  ) {}

  /** Takes the request out of its queue (it was cancelled): it is never sent, nor dialled for. */
  leave(): void {
    this.queue.remove(this);
  }
}

/**
 * Requests waiting for a connection, oldest first. A request whose handler is the mesh's own
 * leaves at once when it is cancelled, so a dead request never waits for a connection only to be
 * dropped then, and never holds its memory meanwhile. A node is made only for requests that wait.
 */
export class DispatchQueue {
  #head: QueuedDispatch | undefined = undefined;
  #tail: QueuedDispatch | undefined = undefined;
  #length = 0;

  /** Requests waiting. */
  get length(): number {
    return this.#length;
  }

  /** Queues a request behind those already waiting. */
  push(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    const entry = new QueuedDispatch(this, options, handler);
    if (isQueueable(handler)) handler.queued = entry;
    if (this.#tail === undefined) this.#head = entry;
    else {
      this.#tail.next = entry;
      entry.prev = this.#tail;
    }
    this.#tail = entry;
    this.#length++;
  }

  /** Takes the oldest request out of the queue. */
  shift(): QueuedDispatch | undefined {
    const entry = this.#head;
    if (entry !== undefined) this.remove(entry);
    return entry;
  }

  /** Unlinks a waiting request (see {@link QueuedDispatch.leave}); a request already gone is left alone. */
  remove(entry: QueuedDispatch): void {
    if (entry.prev === undefined ? this.#head !== entry : entry.prev.next !== entry) return;
    if (isQueueable(entry.handler) && entry.handler.queued === entry) entry.handler.queued = undefined;
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
    this.#length--;
  }
}
