import { EventEmitter } from 'node:events';
import type { AbortEmitter } from './context.js';

/** Either kind of cancellation signal the mesh accepts from callers. */
export type SignalLike = AbortSignal | AbortEmitter;

/**
 * A one-shot cancellation signal that undici accepts in place of an `AbortSignal`: undici listens
 * for `'abort'` on any EventEmitter and rejects with its `reason`. It costs a fraction of an
 * `AbortController`, which is why the resilience layers use it for deadlines and hedging.
 */
export class CancelToken extends EventEmitter {
  /** Whether `abort` has been called. */
  aborted = false;
  /** The error undici rejects the request with once aborted. */
  reason: Error | undefined = undefined;

  /** A token that has not fired. */
  constructor() {
    super();
    // Many attempts may listen to one token (hedging, every call of an inbound request).
    this.setMaxListeners(0);
  }

  /** Fires `'abort'` once; later calls do nothing. */
  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/** Whether a caller's signal has already fired. */
export function isAborted(signal: SignalLike): boolean {
  return signal.aborted === true;
}

/** The reason a fired signal carries, if it carries one. */
export function abortReason(signal: SignalLike): unknown {
  return signal.reason;
}

/**
 * Calls `listener` when `signal` fires, until {@link offAbort} takes it off. Callers always take
 * it off once their request is over, and every listener here is safe to call twice, so an
 * EventEmitter signal gets a plain `on` listener: `once`, or an unlink closure, would allocate
 * more on every request.
 */
export function onAbort(signal: SignalLike, listener: () => void): void {
  if ('addEventListener' in signal) signal.addEventListener('abort', listener, { once: true });
  else signal.on('abort', listener);
}

/** Stops calling a listener given to {@link onAbort}. */
export function offAbort(signal: SignalLike, listener: () => void): void {
  if ('removeEventListener' in signal) signal.removeEventListener('abort', listener);
  else signal.removeListener('abort', listener);
}
