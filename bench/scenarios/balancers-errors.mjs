// Issue 3: one of five endpoints answers 503 to half of its requests. No retries anywhere.
// Target: with ejection on (the default health layer), success >= 99.9 %.
import { balancerScenario } from '../balancers/scenario.mjs';

export default balancerScenario({
  name: 'balancers-errors',
  title: 'Issue 3: 5 endpoints, one answering 503 to half of its requests (no retries)',
  odd: { latencyMs: 5, errorRate: 0.5 },
  extraClients: [
    {
      id: 'mesh-rr-no-health',
      label: 'round robin, health layer removed',
      options: { balancer: 'round-robin', health: false },
    },
  ],
});
