import { balanceLayer } from '../balancers/balance-layer.js';
import { healthLayer } from '../balancers/health/health-layer.js';
import { Stack } from '../core/stack.js';
import { circuitBreaker } from '../resilience/breaker/circuit-breaker.js';
import { deadlines } from '../resilience/deadline-layer.js';
import { hedging } from '../resilience/hedge-layer.js';
import { retries } from '../resilience/retry-layer.js';
import { routes } from '../routing/route-layer.js';
import { attemptTracing } from '../telemetry/attempt-tracing-layer.js';
import { tracing } from '../telemetry/tracing-layer.js';
import { transportLayer } from '../transport/transport-layer.js';

/**
 * The stack every service gets unless configured otherwise, top (first to see a request) to
 * bottom:
 *
 * | layer       | concern                                                        |
 * |-------------|----------------------------------------------------------------|
 * | `route`     | routing rules: splits, matches, mirroring, faults ({@link routes}); no rules by default |
 * | `tracing`   | one OpenTelemetry CLIENT span per logical request (`tracing()`) |
 * | `deadline`  | one deadline for the whole request, inherited from the inbound request, sent downstream; cancels everything below when it passes ({@link deadlines}) |
 * | `breaker`   | fails fast while the service keeps failing ({@link circuitBreaker}) |
 * | `retry`     | retries safe-to-repeat failures within the deadline and a retry budget ({@link retries}) |
 * | `hedge`     | backup requests for slow idempotent calls; off unless configured ({@link hedging}) |
 * | `balance`   | picks an endpoint, tracks load on it ({@link balanceLayer}); the service stack ends here |
 * | `tracing-attempt` | endpoint stack: one OpenTelemetry CLIENT span per attempt, under the call's span (`attemptTracing()`) |
 * | `health`    | endpoint stack: ejects failing endpoints, slow-starts new ones ({@link healthLayer}) |
 * | `transport` | endpoint stack: sends on the endpoint's connection pool ({@link transportLayer}) |
 *
 * The layers below `balance` form the **endpoint stack**: the mesh builds a copy of them for each
 * endpoint as discovery adds it (Finagle's endpoint stack), so per-endpoint state lives in the
 * layer that keeps it, and `balance` hands each attempt to the chosen endpoint's copy. Add your
 * own per-endpoint layers with `s.endpointLayer(layer)` (or insert them below `balance`).
 *
 * Opt-in layers go where they belong with `s.layer(x)`, which inserts a layer at its role's
 * canonical rank (`LAYER_ORDER`) or replaces the layer of the same name:
 *
 * | layer        | factory                     | lands                             |
 * |--------------|-----------------------------|-----------------------------------|
 * | `metrics`    | `metrics({ registry })`     | on top                            |
 * | `rate-limit` | `rateLimit({...})`          | below `hedge`, above `throttle`   |
 * | `throttle`   | `adaptiveThrottle({...})`   | below `rate-limit`                |
 * | `concurrency`| `bulkhead({...})` or `adaptiveConcurrency({...})` | directly above `balance` |
 *
 * Why this order:
 * - `tracing` is on top so its one span covers the whole logical request, retries and backups
 *   included.
 * - `deadline` sits above `retry` and `hedge` so that retries, backoff waits and backups all
 *   share one deadline and are cancelled together. `retry` is above `hedge` so a failed hedged
 *   pair is retried as a unit, and `hedge` above `balance` so each attempt and each backup
 *   re-enters the balancer and can land on another endpoint (they set `ctx.avoid`).
 * - `breaker` sits below `deadline`, so a call whose inherited deadline has already passed is
 *   refused before the breaker counts it (a call that times out waiting for the upstream does
 *   count), and above `retry`, so it judges whole calls and an open breaker costs no retry
 *   budget. Per-endpoint failures are the `health` layer's to judge. It is on by default, as
 *   production services want.
 * - `rate-limit`, `throttle` and `concurrency` sit below retries and hedging, so every attempt
 *   the upstream would see is counted, in that order so the cheapest rejection comes first and
 *   the concurrency limit, nearest the network, times only the attempt itself (not time queued
 *   above it). `s.layer(...)` puts them in this order whatever order it is called in. They
 *   are opt-in: they need numbers only the user knows (a rate, a queue size).
 * - `metrics` goes on top, next to `tracing`, to time the call as the caller sees it.
 *
 * - `route` is on top: a request routed to another service runs through that service's whole
 *   stack, so it gets exactly one span, in the stack of the backend that serves it.
 */
export function defaultStack(): Stack {
  return Stack.of(
    // per logical request. Routing comes first: a request routed to another service runs
    // through that service's whole stack (tracing included), so each request gets one span,
    // in the stack of the backend that serves it.
    routes(),
    tracing(),
    deadlines(),
    circuitBreaker(),
    retries(),
    hedging({ enabled: false }),
    // per attempt
    balanceLayer(),
    attemptTracing(),
    // per attempt, on the chosen endpoint
    healthLayer(),
    transportLayer(),
  );
}
