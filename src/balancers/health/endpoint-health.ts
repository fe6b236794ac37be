/** What the health layer knows about one endpoint (kept on `EndpointView.healthState`). */
export class EndpointHealth {
  /** Failures since the last success. */
  consecutiveFailures = 0;
  /** Successes in the current success-rate interval. */
  successes = 0;
  /** Failures in the current success-rate interval. */
  failures = 0;
  /** Ejections so far, minus one per quiet interval: sets the length of the next ejection. */
  ejections = 0;
  /** When the current ejection ends (clock ms). */
  ejectedUntil = 0;
  /** When slow start began (clock ms); `-Infinity` when the endpoint is not warming up. */
  warmingSince = Number.NEGATIVE_INFINITY;
  /** Back from ejection and not yet answered well: one failure sends it back. */
  onProbation = false;
  /** Active checks failed in a row. */
  checkFailures = 0;
  /** Whether the last active check passed (true until one fails). */
  checkPassed = true;
  /** Whether the endpoint was ejected during the current success-rate interval. */
  ejectedThisInterval = false;
}
