import { EventEmitter } from 'node:events';

/** Either kind of cancellation signal the mesh accepts from callers. */
export type SignalLike = AbortSignal | EventEmitter;

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
  return (signal as { aborted?: boolean }).aborted === true;
}

/** The reason a fired signal carries, if it carries one. */
export function abortReason(signal: SignalLike): unknown {
  return (signal as { reason?: unknown }).reason;
}

/** Calls `listener` once when `signal` fires; returns the function that stops listening. */
export function onAbort(signal: SignalLike, listener: () => void): () => void {
  if ('addEventListener' in signal) {
    signal.addEventListener('abort', listener, { once: true });
    return () => signal.removeEventListener('abort', listener);
  }
  signal.once('abort', listener);
  return () => signal.removeListener('abort', listener);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as `signal` fires. The timer is
 * cleared either way, so nothing outlives the wait.
 */
export function sleep(ms: number, signal: SignalLike | undefined): Promise<void> {
  if (signal !== undefined && isAborted(signal)) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    let stop: (() => void) | undefined;
    const timer = setTimeout(() => {
      stop?.();
      resolve();
    }, ms);
    if (signal !== undefined) {
      stop = onAbort(signal, () => {
        clearTimeout(timer);
        reject(abortReason(signal));
      });
    }
  });
}
