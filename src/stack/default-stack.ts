import { balanceLayer } from '../balancers/balance-layer.js';
import { transportLayer } from '../transport/transport-layer.js';
import { Stack } from './stack.js';

/**
 * The stack every service gets unless configured otherwise, top to bottom:
 *
 * 1. `balance`: picks an endpoint and tracks load on it ({@link balanceLayer}).
 * 2. `transport`: sends the request on the endpoint's connection pool ({@link transportLayer}).
 *
 * Capabilities that come later slot in by name (deadline, retry, breaker above `balance`;
 * endpoint health between `balance` and `transport`), without changes to the core.
 */
export function defaultStack(): Stack {
  return Stack.of(balanceLayer(), transportLayer());
}
