/**
 * Routing for trellis: logical names to backends by rules (weighted splits, header and path
 * matches), traffic mirroring and fault injection, with rules that change at run time from a
 * watched file or an etcd key.
 *
 * ## Rules
 *
 * ```yaml
 * services:
 *   users:
 *     routes:                                  # tried in order, first match wins
 *       - match: { headers: { x-canary: "1" } }
 *         backend: users-v2                    # all matching requests to one service
 *       - split:                               # no match: every other request
 *           - { backend: users, weight: 90 }   # the service's own name = its own endpoints
 *           - { backend: users-v2, weight: 10 }
 *         mirror: { backend: users-shadow, percent: 5 }
 *         fault: { delay: { percent: 1, ms: 200 }, abort: { percent: 0.1 } }
 * ```
 *
 * SMI `TrafficSplit` resources (v1alpha1 to v1alpha4) are accepted as they are. A request no
 * route matches goes to the service itself. Rules are validated as a whole ({@link parseRules});
 * an invalid update is rejected with every problem listed and the previous rules stay.
 *
 * ## Backends
 *
 * A backend is another service of the same mesh (logical name or claimed host), with its own
 * discovery, balancer and stack; a request routed there runs through that stack, and that
 * service's own rules apply only to requests addressed to it by name (no double routing, no
 * loops). A subset of a service's endpoints (say discovery metadata `version=v2`) becomes a
 * backend by declaring it as a service with {@link subsetOf}.
 *
 * ## Mirroring and faults
 *
 * A mirrored copy is sent after the primary request has been dispatched and is never awaited:
 * its answer is discarded, its failure ignored. Only requests whose body can be sent twice (none,
 * a string or bytes) are mirrored; a streaming body is never buffered for it, so such requests
 * are not mirrored (through `fetch`, every request body is a stream, so only body-less requests
 * are mirrored there). Copies carry `x-trellis-mirror: 1` ({@link MIRROR_HEADER}).
 *
 * Faults act where the route is decided, at the top of the stack, as Istio's fault filter does
 * before the router's retries: an injected abort (`TRELLIS_FAULT_INJECTED`) reaches the caller
 * without being retried, which tests the application's own handling; an injected delay uses up
 * the request's deadline.
 *
 * ## Control plane
 *
 * `Mesh.builder().rules(source)` gives every service the rules of one {@link RulesSource}:
 * {@link rulesSource} (set from code), {@link fileRules} (a watched file) or {@link etcdRules}
 * (an etcd key, written by `npx trellis split set ...`). Fixed rules for one service:
 * `s.layer(routes({ routes: [...] }))`. A service with no rules pays one null check per request.
 *
 * @packageDocumentation
 */

export { MIRROR_HEADER } from './compile.js';
export { type EtcdRulesOptions, etcdRules } from './etcd-rules.js';
export { fileRules } from './file-rules.js';
export { parseRules } from './parse-rules.js';
export { ROUTE_LAYER, type RouteLayerOptions, routes } from './route-layer.js';
export {
  DEFAULT_RULES_KEY,
  type FaultAbort,
  type FaultDelay,
  type FaultRule,
  type MirrorRule,
  type RouteMatch,
  type RouteRule,
  type RouteTable,
  type ServiceRoutes,
  type StringMatch,
  type WeightedBackend,
} from './rules.js';
export { RulesSource, type RulesSourceEvents, type RulesWatch, rulesSource } from './rules-source.js';
export { subsetOf } from './subset.js';
