// Issue 3: one of five endpoints is 10x slower (50 ms against 5 ms). Target: P2C peak-EWMA p99
// <= 0.3x round robin's, and better than undici BalancedPool's.
import { balancerScenario } from '../balancers/scenario.mjs';

export default balancerScenario({
  name: 'balancers-slow',
  title: 'Issue 3: 5 endpoints, one 10x slower (50 ms vs 5 ms)',
  odd: { latencyMs: 50 },
});
