/**
 * The listeners of one event, kept in a single field: nothing while there are none, the
 * function itself while there is one (the usual case), an array beyond. Objects made for every
 * request that emit a single event (the dispatcher's abort, a relayed body's close) use it rather
 * than extend EventEmitter, whose constructor and listener bookkeeping cost more than the rest of
 * such an object (bench/micro/dispatcher-path.mjs).
 */
export type ListenerList = (() => void) | Array<() => void> | undefined;

/** The list with `listener` added at the end. */
export function addListener(list: ListenerList, listener: () => void): ListenerList {
  if (list === undefined) return listener;
  if (typeof list === 'function') return [list, listener];
  list.push(listener);
  return list;
}

/**
 * The list without the most recently added occurrence of `listener` (as EventEmitter
 * removes it), back to a lone function when one is left.
 */
export function removeListener(list: ListenerList, listener: () => void): ListenerList {
  if (list === listener) return undefined;
  if (typeof list !== 'object') return list;
  const index = list.lastIndexOf(listener);
  if (index >= 0) list.splice(index, 1);
  if (list.length > 1) return list;
  return list.length === 1 ? list[0] : undefined;
}

/** Calls every listener of the list, in the order they were added. */
export function callListeners(list: ListenerList): void {
  if (typeof list === 'function') list();
  else if (list !== undefined) for (const listener of [...list]) listener();
}
