import { TrellisError } from './errors.js';
import { FailureFlag, type FailureFlags, isUpstreamFailure, responseFlags } from './failure-flags.js';
import type { MeshResponse } from './layer.js';

/**
 * The flags of a thrown value: a `TrellisError`'s own (computed when it was made), and `Failed`
 * alone for anything else: an error the mesh did not make counts against the upstream.
 */
export function errorFlags(error: unknown): FailureFlags {
  return error instanceof TrellisError ? error.flags : FailureFlag.Failed;
}

/** The flags of an outcome; exactly one of `response` and `error` is set. */
export function outcomeFlags(response: MeshResponse | undefined, error: unknown): FailureFlags {
  return response !== undefined ? responseFlags(response) : errorFlags(error);
}

/**
 * Decides whether an outcome counts against the upstream. Exactly one of `response` and `error`
 * is set.
 */
export type FailureClassifier = (response: MeshResponse | undefined, error: unknown) => boolean;

/**
 * The default {@link FailureClassifier}: a 5xx response, or an error other than the local ones
 * (caller abort, malformed request, no endpoints, the mesh's own rejections: circuit open,
 * concurrency or rate limited, injected fault; and an endpoint refusing our client certificate).
 * Reads the outcome's failure flags.
 */
export const upstreamFailure: FailureClassifier = (response, error) =>
  isUpstreamFailure(outcomeFlags(response, error));

/**
 * Decides whether the upstream rejected or dropped a call (an overload signal). Exactly one of
 * `response` and `error` is set.
 */
export type RejectionClassifier = (response: MeshResponse | undefined, error: unknown) => boolean;

/**
 * The default {@link RejectionClassifier}: 429 or 503, a timeout, or an unreachable upstream
 * (the `Rejected` flag). Other 5xx answers are failures but not overload: the upstream did
 * accept and process the call.
 */
export const upstreamRejected: RejectionClassifier = (response, error) =>
  (outcomeFlags(response, error) & FailureFlag.Rejected) !== 0;

/**
 * True for errors raised by the caller or the mesh itself, which say nothing about the upstream
 * (the `Local` flag).
 */
export function isLocalError(error: unknown): boolean {
  return (errorFlags(error) & FailureFlag.Local) !== 0;
}
