/**
 * Calls undici's abort for an attempt the mesh has cancelled (a deadline, a caller's abort, a
 * body the caller destroyed). undici makes errors of its own for the request and for the
 * connection it closes, which nobody reads (the caller already has the mesh's error), so they
 * are made without stack traces, which are most of an error's cost: when a deadline cuts
 * thousands of attempts at once, those traces were a visible share of the tick.
 */
export function abortQuietly(abort: (err: Error) => void, reason?: Error): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    abort(reason as Error); // undici's abort makes its own error when given none
  } finally {
    Error.stackTraceLimit = limit;
  }
}
