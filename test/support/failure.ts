/**
 * The error `call()` fails with and how long, in ms, it took from the call; fails the test if it
 * succeeds. A function rather than a promise, so the time includes the call's synchronous start
 * (a deadline starts there). `E` is what the test expects the error to be (it still checks it).
 */
export async function failureOf<E = unknown>(call: () => Promise<unknown>): Promise<{ err: E; ms: number }> {
  const started = performance.now();
  try {
    await call();
  } catch (err) {
    return { err: err as E, ms: performance.now() - started };
  }
  throw new Error('expected the call to fail');
}
