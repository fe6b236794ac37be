/**
 * Exponential backoff with "full jitter" (a uniformly random wait between 0 and the exponential
 * cap), which spreads retries from many clients better than a fixed or proportional jitter.
 *
 * @param retry - 1 for the first retry
 * @param baseMs - cap for the first retry
 * @param maxMs - cap for any retry
 * @param random - a number in [0, 1)
 */
export function jitteredBackoff(retry: number, baseMs: number, maxMs: number, random: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return cap * random;
}

const DELTA_SECONDS = /^\d{1,10}$/;

/**
 * Reads a `Retry-After` header (delta-seconds or an HTTP date) as a wait in ms. The value comes
 * from the network: anything unparsable is ignored (`undefined`), dates in the past mean 0.
 *
 * @param value - the header value
 * @param nowMs - wall-clock time (`Date.now()`), for HTTP dates
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  if (value === undefined || Array.isArray(value)) return undefined;
  const trimmed = value.trim();
  if (DELTA_SECONDS.test(trimmed)) return Number(trimmed) * 1000;
  if (trimmed.length < 20 || trimmed.length > 40) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
