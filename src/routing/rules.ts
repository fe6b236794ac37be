/**
 * The routing rules model. A {@link RouteTable} maps logical service names to their
 * {@link ServiceRoutes}; each service's routes are tried in order and the first whose `match`
 * fits the request decides where it goes. A request no route matches goes to the service itself.
 *
 * A backend is always a service of the same mesh, named by its logical name or a host it
 * claims. The service's own name means "this service's own endpoints". To route to a subset of
 * a service's endpoints (for example those discovery labels `version=v2`), declare that subset
 * as its own service with {@link subsetOf}: it then has its own balancer and stack.
 *
 * @module
 */

/**
 * How a string (a path or a header value) is matched. A bare string means `exact` for headers
 * and `prefix` for paths.
 */
export type StringMatch =
  | string
  | {
      /** The whole value equals this (for a path: the part before `?`). */
      readonly exact?: string;
      /** The value starts with this. */
      readonly prefix?: string;
      /** The value matches this regular expression (JavaScript syntax, not anchored). */
      readonly regex?: string;
      /** `true`: the header is present with any value; `false`: it is absent. Headers only. */
      readonly present?: boolean;
    };

/** Which requests a route applies to; every given condition must hold. */
export interface RouteMatch {
  /** HTTP method, e.g. `GET`. */
  readonly method?: string;
  /** The request path (with query string); a bare string is a prefix. */
  readonly path?: StringMatch;
  /** Header name (case-insensitive) to how its value must match; a bare string is exact. */
  readonly headers?: Readonly<Record<string, StringMatch>>;
}

/** One backend of a traffic split and its share. */
export interface WeightedBackend {
  /** A service of the mesh (logical name or claimed host); the routed service's own name means its own endpoints. */
  readonly backend: string;
  /** Relative weight, at least 0; shares are weight / sum of weights. */
  readonly weight: number;
}

/**
 * Copies a percentage of requests to another service, fire-and-forget: the copy's answer is
 * discarded, its failure is ignored, and the caller never waits for it. Only requests whose
 * body can be sent twice (none, a string or bytes) are mirrored; streaming bodies never are.
 * Requests made through `fetch` (`mesh.fetch`, the dispatcher) carry their body as a stream,
 * so among them only body-less ones (GET, HEAD, DELETE, ...) are mirrored; `mesh.request` with
 * a string or `Buffer` body mirrors any method.
 */
export interface MirrorRule {
  /** The service that receives the copies. */
  readonly backend: string;
  /** Share of matching requests to copy, 0 to 100. */
  readonly percent: number;
  /** Time limit for a copy's response headers and body gaps, in ms (default 10 000). */
  readonly timeoutMs?: number;
}

/** Holds a share of requests before sending them on. */
export interface FaultDelay {
  /** Share of matching requests to delay, 0 to 100. */
  readonly percent: number;
  /** How long to hold each one, in ms. */
  readonly ms: number;
}

/** Fails a share of requests at once with `TRELLIS_FAULT_INJECTED`, without sending them. */
export interface FaultAbort {
  /** Share of matching requests to fail, 0 to 100. */
  readonly percent: number;
}

/**
 * Deliberate failures for resilience testing. Percentages are of the requests the route
 * matches; an aborted request is not also delayed.
 */
export interface FaultRule {
  /** Hold a share of requests before sending them on. */
  readonly delay?: FaultDelay;
  /** Fail a share of requests without sending them. */
  readonly abort?: FaultAbort;
}

/**
 * One route: which requests it applies to, and where they go. Give either `backend` (all to
 * one service) or `split` (weighted shares).
 */
export interface RouteRule {
  /** A label for errors and tooling. */
  readonly name?: string;
  /** Which requests this route takes; omitted: all of them. */
  readonly match?: RouteMatch;
  /** Send every matching request to this service. */
  readonly backend?: string;
  /** Share matching requests among several services by weight. */
  readonly split?: readonly WeightedBackend[];
  /** Copy a share of matching requests to another service. */
  readonly mirror?: MirrorRule;
  /** Delay or fail a share of matching requests on purpose. */
  readonly fault?: FaultRule;
}

/** The routes of one service, tried in order; the first match wins. */
export interface ServiceRoutes {
  /** Routes in priority order. */
  readonly routes: readonly RouteRule[];
}

/** Routing rules for any number of services, keyed by logical service name. */
export interface RouteTable {
  /** Service name to its routes. A service not listed has no rules. */
  readonly services: Readonly<Record<string, ServiceRoutes>>;
}

/** A table with no rules. */
export const EMPTY_ROUTE_TABLE: RouteTable = Object.freeze({ services: Object.freeze({}) });

/** Where trellis keeps the routing rules in etcd unless told otherwise. */
export const DEFAULT_RULES_KEY = '/trellis/routes';
