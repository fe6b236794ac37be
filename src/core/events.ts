import type { Endpoint } from './endpoint.js';

/** Why the health layer ejected an endpoint. */
export type EjectionReason = 'consecutive-failures' | 'success-rate' | 'active-check';

/** Events a mesh emits (typed, via eventemitter3). Handlers run off the request path. */
export interface MeshEvents {
  /** Discovery changed a service's endpoint set. */
  endpoints: (service: string, endpoints: readonly Endpoint[]) => void;
  /** A resolver failed or published malformed data; the last good set stays in force. */
  discoveryError: (service: string, error: Error) => void;
  /** A service's circuit breaker changed state (`open`: failing fast; `half-open`: probing). */
  circuit: (service: string, state: 'closed' | 'open' | 'half-open') => void;
  /** The health layer took an endpoint (`host:port`) out of rotation for `durationMs`. */
  endpointEjected: (service: string, endpoint: string, reason: EjectionReason, durationMs: number) => void;
  /** An ejected endpoint is back in rotation (in slow start, on probation: one failure ejects it again). */
  endpointReturned: (service: string, endpoint: string) => void;
  /** A failed attempt is being retried; `attempt` is the number of the attempt about to be sent. */
  retry: (service: string, attempt: number, failure: string) => void;
  /** A retry was needed but the service's retry budget was spent; the failure went to the caller. */
  retryBudgetExhausted: (service: string) => void;
  /** A backup request was sent (`sent`) or answered first (`won`). */
  hedge: (service: string, outcome: 'sent' | 'won') => void;
  /**
   * A rule set is in force for the service: `version` as its rules source numbers it (an etcd
   * revision, or a count of the sets it applied), `origin` where it came from. Emitted for every
   * update the source applies, whether or not this service's entry changed; the rules a service
   * starts with are applied while the mesh is built, before anyone can listen (the admin
   * endpoint's `/services` shows them).
   */
  rulesApplied: (service: string, version: number, origin: string) => void;
  /** The service's rules source rejected an update; the rules in force stay. */
  rulesRejected: (service: string, error: Error) => void;
}
