/**
 * One clock reading per synchronous step of a call. Several layers time the same moment: on its
 * way down, a call's deadline, the retry budget's deposit, its metrics timer and its attempt on
 * the chosen endpoint all start in one synchronous pass; on its way back, the attempt's latency
 * sample and the metrics' time to headers end in one. Each read `performance.now()` itself (about
 * 50 ns on Node 20), seven times per request on the production path. Inside a step they share
 * the first reading instead.
 *
 * A step is opened by what runs a call's layers in one pass (`mesh.request()`, a fused run
 * entering or unwinding its layers) and closed when that pass returns, so a reading never
 * outlives the synchronous code that took it: anything that runs later (a timer, a body's end, a
 * retry after its backoff) reads the clock afresh. Time spent inside a step is not seen by the
 * readers of that step: a step is layer bookkeeping and the send of one request, a few µs,
 * against latencies of a millisecond or more.
 */

/** How many steps are open (steps nest: a fused run entered from inside another's step). */
let openSteps = 0;
/** The step's reading, or -1 until a reader inside the step asks for one (the clock is never negative). */
let reading = -1;

/**
 * The current time in ms on `performance.now()`'s clock: the open step's reading (taken on the
 * first call in the step), or a fresh reading outside any step.
 */
export function stepNow(): number {
  if (openSteps === 0) return performance.now();
  if (reading < 0) reading = performance.now();
  return reading;
}

/** Opens a step; pair every call with {@link closeStep} in a `finally`. */
export function openStep(): void {
  openSteps++;
}

/** Closes a step; the reading is dropped when the outermost one closes. */
export function closeStep(): void {
  if (--openSteps === 0) reading = -1;
}
