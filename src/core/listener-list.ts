/**
 * A listener object in the DOM's `EventListener` shape: its `handleEvent` is called. An object
 * that already exists for the request (a transport handler) listens as itself, so it needs no
 * closure per request (see `listenForAbort` in cancel-token.ts).
 */
export interface ListenerObject {
  /** Called when the event fires. */
  handleEvent(): void;
}

/** A function or a {@link ListenerObject}. */
export type Listener = (() => void) | ListenerObject;

/**
 * The listeners of one event, kept in a single field: nothing while there are none, the
 * listener itself while there is one (the usual case), an array beyond. Objects made for every
 * request that emit a single event (the dispatcher's abort, a relayed body's close) use it rather
 * than extend EventEmitter, whose constructor and listener bookkeeping cost more than the rest of
 * such an object (bench/micro/dispatcher-path.mjs).
 */
export type ListenerList = Listener | Listener[] | undefined;

/** The list with `listener` added at the end. */
export function addListener(list: ListenerList, listener: Listener): ListenerList {
  if (list === undefined) return listener;
  if (!Array.isArray(list)) return [list, listener];
  list.push(listener);
  return list;
}

/**
 * The list without the most recently added occurrence of `listener` (as EventEmitter
 * removes it), back to a lone listener when one is left.
 */
export function removeListener(list: ListenerList, listener: Listener): ListenerList {
  if (list === listener) return undefined;
  if (!Array.isArray(list)) return list;
  const index = list.lastIndexOf(listener);
  if (index >= 0) list.splice(index, 1);
  if (list.length > 1) return list;
  return list.length === 1 ? list[0] : undefined;
}

/** Calls every listener of the list, in the order they were added. */
export function callListeners(list: ListenerList): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) call(list);
  else for (const listener of [...list]) call(listener);
}

function call(listener: Listener): void {
  if (typeof listener === 'function') listener();
  else listener.handleEvent();
}
