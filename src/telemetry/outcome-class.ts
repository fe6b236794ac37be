import { isTrellisError } from '../core/errors.js';
import { FailureFlag, isUpstreamFailure, responseFlags } from '../core/failure-flags.js';
import type { MeshResponse } from '../core/layer.js';
import { errorFlags } from '../core/outcome.js';

/**
 * How a call ended, as the `outcome` label says it: answered well, failed upstream (a 5xx answer
 * or an upstream error: unreachable, reset, timed out), refused by the mesh itself before it was
 * sent (circuit open, rate or concurrency limited, no endpoints, injected fault...), or
 * cancelled by the caller.
 */
export const OUTCOMES = ['success', 'failure', 'rejected', 'cancelled'] as const;

/** The `status_class` label: the response's status class, or `none` when there was no response. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;

const NO_STATUS = STATUS_CLASSES.length - 1;

/** Number of (outcome, status class) cells a request counter keeps. */
export const CELLS = OUTCOMES.length * STATUS_CLASSES.length;

/** The cell of a request that got a response: its outcome and status class. */
export function responseCell(response: MeshResponse): number {
  const outcome = isUpstreamFailure(responseFlags(response)) ? 1 : 0;
  const status = response.statusCode;
  const statusClass = status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 4;
  return outcome * STATUS_CLASSES.length + statusClass;
}

/** The cell of a request that ended in an error (no response). */
export function errorCell(error: unknown): number {
  const flags = errorFlags(error);
  const outcome = flags & FailureFlag.Interrupted ? 3 : flags & FailureFlag.Local ? 2 : 1;
  return outcome * STATUS_CLASSES.length + NO_STATUS;
}

/**
 * The `code` label of a response body that failed after the headers, or undefined when its end
 * is no failure to count: read to its end, destroyed by the caller, or cancelled by the caller
 * (`TRELLIS_ABORTED`). The mesh fails a body only with `TrellisError`s (an endpoint's reset or
 * stall, a deadline); any other error came from the caller's own `destroy(error)`.
 */
export function bodyErrorCode(error: Error | null | undefined): string | undefined {
  if (!isTrellisError(error) || error.flags & FailureFlag.Interrupted) return undefined;
  return error.code;
}

/** The `code` label of an error: its `TrellisError` code, or `UNKNOWN`. */
export function errorCode(error: unknown): string {
  return isTrellisError(error) ? error.code : 'UNKNOWN';
}

/** The `outcome` and `status_class` labels of a cell. */
export function cellLabels(cell: number): { outcome: string; status_class: string } {
  return {
    outcome: OUTCOMES[Math.floor(cell / STATUS_CLASSES.length)]!,
    status_class: STATUS_CLASSES[cell % STATUS_CLASSES.length]!,
  };
}
