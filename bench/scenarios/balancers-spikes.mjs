// Issue 3: one of five endpoints has latency spikes: 10 % of its answers take 50 ms more.
import { balancerScenario } from '../balancers/scenario.mjs';

export default balancerScenario({
  name: 'balancers-spikes',
  title: 'Issue 3: 5 endpoints, one with spikes (10 % of its answers +50 ms)',
  odd: { latencyMs: 5, spikeRate: 0.1, spikeMs: 50 },
});
