import { balanceLayer } from '../balancers/balance-layer.js';
import { circuitBreaker } from '../resilience/breaker/circuit-breaker.js';
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
 * | `breaker`   | fails fast while the service keeps failing ({@link circuitBreaker}) |
 * | `balance`   | picks an endpoint, tracks load on it ({@link balanceLayer})    |
 * | `transport` | sends on the endpoint's connection pool ({@link transportLayer}) |
 *
 * Opt-in layers and where they belong (insert them by name):
 *
 * | layer        | factory                     | insert                          |
 * |--------------|-----------------------------|---------------------------------|
 * | `metrics`    | `metrics({ registry })`     | `st.prepend(...)`               |
 * | `rate-limit` | `rateLimit({...})`          | `st.insertBefore('balance', ...)` |
 * | `throttle`   | `adaptiveThrottle({...})`   | `st.insertBefore('balance', ...)` |
 * | `concurrency`| `bulkhead({...})` or `adaptiveConcurrency({...})` | `st.insertBefore('balance', ...)` |
 *
 * Why this order: the breaker sits above retries so it judges whole calls and an open breaker
 * costs no retry budget. The rate limit, throttle and concurrency limit sit below retries and
 * hedging, so every attempt the upstream would see is counted, and in that order so the cheapest
 * rejection comes first and the concurrency limit, nearest the network, times only the attempt
 * itself (not time spent queued above it). Inserting each with `insertBefore('balance', ...)` in
 * the order rate limit, throttle, concurrency gives that order. The breaker is on by default
 * (production services want it); the others need numbers only the user knows (a rate, a queue
 * size), so they are opt-in. Metrics go on top, next to tracing, so they time the call as the caller sees it.
 *
 * Later capabilities slot in by name without changes to the core: routing, deadlines, retries
 * and hedging above `balance`; endpoint health between `balance` and `transport`.
 */
export function defaultStack(): Stack {
  return Stack.of(
    // per logical request
    tracing(),
    circuitBreaker(),
    // per attempt
    balanceLayer(),
    // per attempt, on the chosen endpoint
    transportLayer(),
  );
}
