import { balanceLayer } from '../balancers/balance-layer.js';
import { deadlines } from '../resilience/deadline-layer.js';
import { hedging } from '../resilience/hedge-layer.js';
import { retries } from '../resilience/retry-layer.js';
import { tracing } from '../telemetry/tracing-layer.js';
import { transportLayer } from '../transport/transport-layer.js';
import { Stack } from './stack.js';

/**
 * The stack every service gets unless configured otherwise, top (first to see a request) to
 * bottom:
 *
 * | layer       | concern                                                        |
 * |-------------|----------------------------------------------------------------|
 * | `tracing`   | one OpenTelemetry CLIENT span per logical request (`tracing()`) |
 * | `deadline`  | one deadline for the whole request, inherited from the inbound request, sent downstream; cancels everything below when it passes ({@link deadlines}) |
 * | `retry`     | retries safe-to-repeat failures within the deadline and a retry budget ({@link retries}) |
 * | `hedge`     | backup requests for slow idempotent calls; off unless configured ({@link hedging}) |
 * | `balance`   | picks an endpoint, tracks load on it ({@link balanceLayer})    |
 * | `transport` | sends on the endpoint's connection pool ({@link transportLayer}) |
 *
 * Why this order: `tracing` is on top so its one span covers the whole logical request, retries
 * and backups included. `deadline` sits above `retry` and `hedge` so that retries, backoff waits
 * and backups all share one deadline and are cancelled together. `retry` is above `hedge` so a
 * failed hedged pair is retried as a unit, and `hedge` above `balance` so each attempt and each
 * backup re-enters the balancer and can land on another endpoint (they set `ctx.avoid`).
 *
 * Later capabilities slot in by name without changes to the core: routing above `deadline`,
 * circuit breaking and concurrency control around `retry`/`hedge`; endpoint health between
 * `balance` and `transport`.
 */
export function defaultStack(): Stack {
  return Stack.of(
    // per logical request
    tracing(),
    deadlines(),
    retries(),
    hedging({ enabled: false }),
    balanceLayer(),
    // per attempt, on the chosen endpoint
    transportLayer(),
  );
}
