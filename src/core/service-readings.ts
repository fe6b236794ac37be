/** A retry budget as the admin endpoint and the metrics read it (the retry layer's `RetryBudget`). */
export interface RetryBudgetReadout {
  /** Extra attempts the budget allows right now; 0 when it is spent (may be fractional). */
  left(): number;
  /** Extra attempts it allows over its window: its floor plus its share of the window's requests. */
  capacity(): number;
}

/** The routing rules in force for one service, and how the updates of its rules went. */
export interface RulesInForce {
  /** Where the rules come from, as the rules source describes itself (`file /etc/routes.yaml`). */
  readonly source: string;
  /**
   * The version in force: the etcd revision that wrote it for etcd rules; for other sources, how
   * many rule sets the source has put in force (0 while it has none, 1 for the first).
   */
  readonly version: number;
  /** The update that put it in force, for people (`etcd key /trellis/routes (revision 42)`). */
  readonly origin: string;
  /** When it was put in force for this service, in ms since the epoch. */
  readonly appliedAtMs: number;
  /** The service's routes in that version, in order (routing's `RouteRule`s); empty: no rules. */
  readonly routes: readonly unknown[];
  /** Rule sets put in force for this service, the first one included. */
  readonly applied: number;
  /** Updates the source rejected since (the previous rules stayed in force). */
  readonly rejected: number;
  /** Why the latest update was rejected; empty when none was. */
  readonly lastRejection: string;
}

/**
 * What a service's layers publish of their state for the admin endpoint and the metrics, which
 * read it when someone looks (a scrape, a `/services` request), never per request. A layer
 * fills in its own entry once, when it is built; an entry no layer filled stays undefined.
 */
export interface ServiceReadings {
  /** The retry layer's budget. */
  retryBudget: RetryBudgetReadout | undefined;
  /** The route layer's rules. */
  rules: RulesInForce | undefined;
}
