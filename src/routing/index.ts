/**
 * Routing for trellis: logical names to backends by rules (weighted splits, header and path
 * matches), traffic mirroring and fault injection, with rules that change at run time from a
 * watched file or an etcd key.
 *
 * @packageDocumentation
 */

export { MIRROR_HEADER, type Random } from './compile.js';
export { DEFAULT_RULES_KEY, type EtcdRulesOptions, etcdRules } from './etcd-rules.js';
export { fileRules } from './file-rules.js';
export { parseRules, parseServiceRoutes } from './parse-rules.js';
export { ROUTE_LAYER, type RouteLayerOptions, routes } from './route-layer.js';
export {
  EMPTY_ROUTE_TABLE,
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
