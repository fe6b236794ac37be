import type { Dispatcher } from 'undici';

/**
 * One endpoint as discovery describes it, after validation. Resolvers publish these; the mesh
 * turns each into a live endpoint ({@link EndpointView}).
 */
export interface Endpoint {
  /** Stable identity: `host:port`, with IPv6 hosts in brackets. */
  readonly id: string;
  /** IP address or host name, without brackets. */
  readonly host: string;
  /** TCP port, 1 to 65535. */
  readonly port: number;
  /** Relative weight for weighted balancers; 1 when discovery gives none. */
  readonly weight: number;
  /** Locality zone, when discovery knows it. */
  readonly zone: string | undefined;
  /** Free-form labels from discovery (version, canary, ...). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Where an endpoint stands with the mesh: `active` takes traffic, `ejected` was taken out by
 * health checking, `draining` has left discovery and only finishes what it already has.
 */
export type EndpointState = 'active' | 'ejected' | 'draining';

/**
 * What layers and balancers see of a live endpoint of a service: the contract the kernel
 * defines, which the mesh's endpoint implements. Balancers and layers read these fields on
 * every request, so they are plain properties. State a layer or balancer keeps about an
 * endpoint lives with that layer (a per-endpoint layer's closure, a balancer's own table), not
 * here.
 */
export interface EndpointView {
  /** `host:port` identity. */
  readonly id: string;
  /** The latest discovery record (weight, zone and metadata may change while the id stays). */
  readonly endpoint: Endpoint;
  /** Requests sent to this endpoint that have not answered yet (maintained by the balance layer). */
  inflight: number;
  /**
   * Health and lifecycle state: a status balancers read (they skip `ejected` endpoints). Changed
   * only through the endpoint stack's `EndpointHandle.setStatus` and by discovery (`draining`).
   */
  readonly state: EndpointState;
  /**
   * Share of its full traffic the endpoint should get, in (0, 1]: below 1 while it warms up
   * after joining the set or returning from ejection (slow start). Set by the health layer
   * through `EndpointHandle.setStatus`, honoured by the balancers.
   */
  readonly slowStartFactor: number;
  /**
   * Attempts sent to this endpoint since it joined the service (counted by the balance layer, as
   * it hands each one to the endpoint stack; hedged backups and retries included).
   */
  attempts: number;
  /**
   * Of those attempts, the ones the endpoint failed: a 5xx answer, or an error that blames the
   * upstream (the caller's abort and the mesh's own refusals do not). Counted by the balance layer.
   */
  failures: number;
  /**
   * Answers whose body the endpoint cut short or stalled past the idle limit, counted as the
   * transport reports them (see {@link EndpointView.bodyEnded}).
   */
  bodyFailures: number;
  /** The keep-alive connection pool to this endpoint, created on first use. */
  readonly pool: Dispatcher;
  /**
   * Told by the transport when the body of an answer below 500 from this endpoint is over, which
   * is when the attempt's outcome is final: `failed` when the endpoint cut the body short (a
   * reset, fewer bytes than its length) or let it stall past the idle limit, false when it was
   * read to its end. A body the caller gave up on (an abort, a destroy) reports nothing. Layers
   * of the endpoint stack listen with `EndpointHandle.onBodyEnd`.
   */
  bodyEnded?(failed: boolean): void;
}
