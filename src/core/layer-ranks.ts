/**
 * Where each role belongs in a stack, top (first to see a request) to bottom. `s.layer(x)`
 * replaces the layer of the same name, or else inserts `x` at its role's rank: above the first
 * layer of a later role. Why this order: see `defaultStack()` (src/mesh/default-stack.ts).
 */
export const LAYER_ORDER: readonly string[] = [
  'metrics',
  'route',
  'tracing',
  'deadline',
  'breaker',
  'retry',
  'hedge',
  'rate-limit',
  'throttle',
  'concurrency',
  'balance',
  'tracing-attempt',
  'health',
  'transport',
];

/** The rank of a role in {@link LAYER_ORDER}, or `undefined` for a role it does not know. */
export function rankOf(role: string): number | undefined {
  const rank = LAYER_ORDER.indexOf(role);
  return rank < 0 ? undefined : rank;
}
