import type { EndpointView } from '../core/endpoint.js';

/**
 * Below this share of `active` endpoints a balancer panics and balances over every endpoint it
 * has, ejected ones included: when most of a set looks unhealthy, the likelier story is a
 * problem with the health signal or a shared dependency, and piling all traffic on the few
 * survivors would take them down too (Envoy's panic threshold, also 50 %).
 */
export const DEFAULT_PANIC_THRESHOLD = 0.5;

/** The endpoints a balancer should choose from, and whether it had to panic to get them. */
export interface Eligibility {
  /** Active endpoints, or every endpoint when panicking. */
  readonly eligible: EndpointView[];
  /** True when too few endpoints are active and ejected ones are used too. */
  readonly panicked: boolean;
}

/**
 * The one panic rule every trellis balancer applies (so they never disagree): choose among
 * `active` endpoints, unless fewer than `panicThreshold` of them are active, or none is, in
 * which case choose among all of them. Balancers call this in `update()`, off the request path;
 * the service calls `update()` again (once per turn) whenever an endpoint's status changes.
 *
 * @param endpoints - the service's live endpoints
 * @param panicThreshold - the share of active endpoints below which to panic, 0 to 1
 */
export function eligibleEndpoints(
  endpoints: readonly EndpointView[],
  panicThreshold = DEFAULT_PANIC_THRESHOLD,
): Eligibility {
  const active: EndpointView[] = [];
  for (const endpoint of endpoints) if (endpoint.state === 'active') active.push(endpoint);
  const panicked =
    endpoints.length > 0 && (active.length === 0 || active.length < panicThreshold * endpoints.length);
  return { eligible: panicked ? [...endpoints] : active, panicked };
}
