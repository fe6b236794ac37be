import { balanceLayer } from '../balancers/balance-layer.js';
import { routes } from '../routing/route-layer.js';
import { tracing } from '../telemetry/tracing-layer.js';
import { transportLayer } from '../transport/transport-layer.js';
import { Stack } from './stack.js';

/**
 * The stack every service gets unless configured otherwise, top (first to see a request) to
 * bottom:
 *
 * | layer       | concern                                                        |
 * |-------------|----------------------------------------------------------------|
 * | `route`     | routing rules: splits, matches, mirroring, faults ({@link routes}); no rules by default |
 * | `tracing`   | one OpenTelemetry CLIENT span per logical request (`tracing()`) |
 * | `balance`   | picks an endpoint, tracks load on it ({@link balanceLayer})    |
 * | `transport` | sends on the endpoint's connection pool ({@link transportLayer}) |
 *
 * Later capabilities slot in by name without changes to the core: deadlines, circuit
 * breaking, retries, hedging and concurrency control above `balance`; endpoint health between
 * `balance` and `transport`.
 */
export function defaultStack(): Stack {
  return Stack.of(
    // per logical request. Routing comes first: a request routed to another service runs
    // through that service's whole stack (tracing included), so each request gets one span,
    // in the stack of the backend that serves it.
    routes(),
    tracing(),
    balanceLayer(),
    // per attempt, on the chosen endpoint
    transportLayer(),
  );
}
