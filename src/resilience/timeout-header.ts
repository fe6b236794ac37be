/**
 * The header that carries a request's remaining time to the next service: whole milliseconds,
 * relative (like gRPC's `grpc-timeout`), so the two hosts' clocks never need to agree.
 */
export const TIMEOUT_HEADER = 'trellis-timeout-ms';

export { UNPROCESSED_HEADER } from '../core/failure-flags.js';

/** Inbound values above this are clamped (a day: far beyond any sane request). */
export const MAX_TIMEOUT_MS = 86_400_000;

const DIGITS = /^\d{1,12}$/;

/**
 * Reads an inbound timeout header value. The value comes from the network, so anything but
 * plain digits (signs, fractions, units, lists, garbage) is ignored and huge values are clamped
 * to `maxMs`; returns `undefined` when the value is absent or unusable.
 */
export function parseTimeoutHeader(
  value: string | string[] | undefined,
  maxMs = MAX_TIMEOUT_MS,
): number | undefined {
  if (value === undefined || Array.isArray(value)) return undefined;
  const trimmed = value.trim();
  if (!DIGITS.test(trimmed)) return undefined;
  return Math.min(Number(trimmed), maxMs);
}

/** Formats remaining time for the header: whole milliseconds, never below 0. */
export function formatTimeoutHeader(remainingMs: number): string {
  return String(Math.max(0, Math.floor(remainingMs)));
}
