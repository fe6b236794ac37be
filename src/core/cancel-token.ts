import { EventEmitter } from 'node:events';
import type { AbortEmitter } from './context.js';
import type { Listener, ListenerObject } from './listener-list.js';

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

/** Stops calling a listener given to {@link onAbort} or registered by {@link listenForAbort}. */
export function offAbort(signal: SignalLike, listener: Listener): void {
  if ('removeEventListener' in signal) signal.removeEventListener('abort', listener);
  else signal.removeListener('abort', listener as () => void);
}

/**
 * Marks the mesh's own abort emitters (the deadline guard, the dispatcher's handler bridge),
 * whose listener lists take {@link ListenerObject}s as well as functions.
 */
export const TAKES_LISTENER_OBJECTS: unique symbol = Symbol('trellis.takesListenerObjects');

/** An abort emitter of the mesh's own (see {@link TAKES_LISTENER_OBJECTS}). */
export interface ListenerObjectEmitter {
  readonly [TAKES_LISTENER_OBJECTS]: true;
  on(event: 'abort', listener: Listener): unknown;
}

/**
 * Has `target.handleEvent()` called when `signal` fires, and returns the listener it registered,
 * for {@link offAbort}. An `AbortSignal` and the mesh's own emitters take the object itself, so an
 * object made for the request anyway listens without a closure of its own. The closure the
 * transport made per attempt cost far more than itself on Node 24: with a deadline on every
 * call, scavenges took 4-5x as long and p99 latency rose from 6 to 25 ms, an effect that V8's
 * allocation-site pretenuring is part of (`--no-allocation-site-pretenuring` removes it too;
 * bench/RESULTS.md, ninth session). Only a caller's EventEmitter signal gets a function.
 */
export function listenForAbort(signal: SignalLike, target: ListenerObject): Listener {
  if ('addEventListener' in signal) {
    signal.addEventListener('abort', target, { once: true });
    return target;
  }
  if ((signal as Partial<ListenerObjectEmitter>)[TAKES_LISTENER_OBJECTS] === true) {
    (signal as unknown as ListenerObjectEmitter).on('abort', target);
    return target;
  }
  const listener = () => target.handleEvent();
  signal.on('abort', listener);
  return listener;
}
