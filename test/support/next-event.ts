/** Anything with `once` and `off`: Node's EventEmitter, eventemitter3's (the mesh), a rules source. */
interface Emitter {
  // biome-ignore lint/suspicious/noExplicitAny: listeners of any typed emitter
  once(name: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: listeners of any typed emitter
  off(name: string, listener: (...args: any[]) => void): unknown;
}

/**
 * The arguments of the next `name` event of `emitter`. Rejects after `ms`, naming the event, so a
 * test whose event never comes fails at the spot instead of hanging until the test's timeout.
 */
export function nextEvent(emitter: Emitter, name: string, ms = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`no '${name}' event within ${ms} ms`));
    }, ms);
    emitter.once(name, listener);
  });
}
