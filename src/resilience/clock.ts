/**
 * A monotonic clock in milliseconds. Layers take one as an option so tests can drive time by
 * hand; the default is `performance.now`.
 */
export type Clock = () => number;

/** The default {@link Clock}: `performance.now()`, the same time base as `RequestContext.deadline`. */
export const monotonicClock: Clock = () => performance.now();

/** A source of uniform random numbers in [0, 1); injectable so tests can seed it. */
export type Random = () => number;
