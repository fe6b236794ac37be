import { balanceLayer } from '../balancers/balance-layer.js';
import { healthLayer } from '../balancers/health/health-layer.js';
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
 * | `balance`   | picks an endpoint, tracks load on it ({@link balanceLayer})    |
 * | `health`    | ejects failing endpoints, slow-starts new ones ({@link healthLayer}); below `balance` because it judges each attempt on the endpoint chosen for it |
 * | `transport` | sends on the endpoint's connection pool ({@link transportLayer}) |
 *
 * Later capabilities slot in by name without changes to the core: routing, deadlines, circuit
 * breaking, retries, hedging and concurrency control above `balance`.
 */
export function defaultStack(): Stack {
  return Stack.of(
    // per logical request
    tracing(),
    balanceLayer(),
    // per attempt, on the chosen endpoint
    healthLayer(),
    transportLayer(),
  );
}
