import type { Endpoint } from '../discovery/endpoint.js';

/** Events a mesh emits (typed, via eventemitter3). Handlers run off the request path. */
export interface MeshEvents {
  /** Discovery changed a service's endpoint set. */
  endpoints: (service: string, endpoints: readonly Endpoint[]) => void;
  /** A resolver failed or published malformed data; the last good set stays in force. */
  discoveryError: (service: string, error: Error) => void;
  /** A service's circuit breaker changed state (`open`: failing fast; `half-open`: probing). */
  circuit: (service: string, state: 'closed' | 'open' | 'half-open') => void;
}
