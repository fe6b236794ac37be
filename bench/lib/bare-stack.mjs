// The default stack with every layer removed that a stack can do without: balance and transport
// remain. What the front-ends and the transport cost alone, without the layers' work.
const REMOVABLE = ['route', 'tracing', 'deadline', 'breaker', 'retry', 'hedge', 'tracing-attempt', 'health'];

/** `stack` with every removable layer removed (for `service.stack(bareStack)`). */
export function bareStack(stack) {
  return REMOVABLE.reduce((edited, layer) => edited.remove(layer), stack);
}
