import type { SignalLike } from '../../core/cancel-token.js';

/** One call waiting for a slot; also its own node in the queue's linked list. */
export interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  signal: SignalLike | undefined;
  onAbort: (() => void) | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
  queued: boolean;
}

/**
 * A FIFO of waiting calls with O(1) removal from anywhere (a waiter leaves early when its wait
 * times out or its caller aborts).
 */
export class WaitQueue {
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  /** Waiters in the queue. */
  size = 0;

  /** Appends a waiter. */
  push(waiter: Waiter): void {
    waiter.prev = this.#tail;
    waiter.next = undefined;
    if (this.#tail) this.#tail.next = waiter;
    else this.#head = waiter;
    this.#tail = waiter;
    waiter.queued = true;
    this.size++;
  }

  /** Removes and returns the oldest waiter. */
  shift(): Waiter | undefined {
    const waiter = this.#head;
    if (waiter) this.remove(waiter);
    return waiter;
  }

  /** Removes a waiter wherever it is; no-op if it already left. */
  remove(waiter: Waiter): void {
    if (!waiter.queued) return;
    if (waiter.prev) waiter.prev.next = waiter.next;
    else this.#head = waiter.next;
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.#tail = waiter.prev;
    waiter.prev = waiter.next = undefined;
    waiter.queued = false;
    this.size--;
  }
}
