import type { Dispatcher } from 'undici';
import type { EndpointView } from '../core/endpoint.js';
import { DispatchQueue, type QueueableHandler } from './dispatch-queue.js';

/**
 * Sends one endpoint's attempts to its connection pool, and holds them in a queue of its own
 * while every connection is busy (undici's `dispatch()` answers false). undici's pool would
 * queue them too, but a request cancelled there stays until a connection takes it: when the
 * deadline of 10,000 queued requests passed, undici re-dialled every aborted connection only to
 * drop the dead requests one by one, and calls behind them settled up to 180 ms late. Here a
 * cancelled request leaves the queue at once (its handler calls `QueuedDispatch.leave`),
 * and the queue is pumped when the pool emits `drain`. A request costs one flag check while the
 * pool has room; the queue node is made only for requests that wait.
 */
export class EndpointSender {
  readonly #endpoint: EndpointView;
  #pool: Dispatcher | undefined = undefined;
  /** True from a `dispatch()` that answered false until the pool's next `drain`. */
  #saturated = false;
  /** Set once the endpoint is leaving: from then on the pool queues (or refuses) everything itself. */
  #leaving = false;
  readonly #queue = new DispatchQueue();
  /** Whether a pump is scheduled. */
  #pumping = false;
  readonly #pumpNow = (): void => {
    this.#pumping = false;
    this.#sendWaiting(false);
  };
  /**
   * On the pool's `drain`, the queue is pumped a microtask later: an aborted attempt frees its
   * connection in the middle of the deadline wheel's tick, and the requests behind it that expire
   * in the same tick must leave the queue before a connection is dialled for them.
   */
  readonly #pump = (): void => {
    this.#saturated = false;
    if (this.#pumping || this.#queue.length === 0) return;
    this.#pumping = true;
    queueMicrotask(this.#pumpNow);
  };

  constructor(endpoint: EndpointView) {
    this.#endpoint = endpoint;
  }

  /** Requests waiting for a connection. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Sends the request now if the pool has room, or queues it behind those already waiting. */
  send(options: Dispatcher.DispatchOptions, handler: QueueableHandler): void {
    const dispatchable = handler as unknown as Dispatcher.DispatchHandler;
    if (this.#leaving || (this.#queue.length === 0 && !this.#saturated)) {
      this.#saturated = !this.#poolOf().dispatch(options, dispatchable);
      return;
    }
    this.#queue.push(options, dispatchable);
  }

  /**
   * Hands every waiting request to the pool, which queues what it has no connection for, and
   * every later one too: the endpoint is leaving, and its pool's graceful close finishes (or
   * refuses) what it holds, with no `drain` to wait for.
   */
  flush(): void {
    this.#leaving = true;
    this.#sendWaiting(true);
  }

  #sendWaiting(all: boolean): void {
    while (this.#queue.length > 0 && (all || !this.#saturated)) {
      const entry = this.#queue.shift()!;
      this.#saturated = !this.#poolOf().dispatch(entry.options, entry.handler);
    }
  }

  #poolOf(): Dispatcher {
    const pool = this.#endpoint.pool;
    if (pool !== this.#pool) {
      this.#pool = pool;
      pool.on('drain', this.#pump);
    }
    return pool;
  }
}
