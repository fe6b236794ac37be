// Issue 4: the hot path through the full default stack. One upstream answering at once. Targets:
// the default stack + metrics >= 0.90x raw undici Pool.request throughput and <= 5 µs added client
// CPU per request, measured in the same run. The other rows isolate the circuit breaker (off, and
// driven through opossum's fire() instead of its state machine) and the opt-in limits.
import { clientModule } from '../lib/registry.mjs';

const undici = clientModule('undici.mjs');
const full = clientModule('full-stack.mjs');
const timeout = { timeoutMs: 5_000 };

export default {
  name: 'full-stack',
  title: 'Issue 4: full default stack (1 upstream answering at once)',
  baseline: 'undici-pool',
  upstreams: [{ name: 'up', profile: {} }],
  clients: [
    { id: 'undici-pool', label: 'undici Pool.request (raw)', module: undici, factory: 'undiciPool' },
    {
      id: 'mesh-no-breaker',
      label: 'default stack without breaker',
      module: full,
      factory: 'meshWithoutBreaker',
    },
    { id: 'mesh-default', label: 'default stack', module: full, factory: 'meshDefaultStack' },
    {
      id: 'mesh-fire',
      label: 'default stack, breaker via opossum fire()',
      module: full,
      factory: 'meshOpossumFire',
    },
    { id: 'mesh-full', label: 'default stack + metrics', module: full, factory: 'meshFullStack' },
    {
      id: 'mesh-full-timeout',
      label: 'default stack + metrics, 5 s timeout per request',
      module: full,
      factory: 'meshFullStack',
      options: timeout,
    },
    {
      id: 'mesh-full-limits',
      label: 'default + metrics + rate limit + throttle + adaptive limit',
      module: full,
      factory: 'meshFullStackWithLimits',
    },
  ],
};
