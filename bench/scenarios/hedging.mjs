// Issue 4: hedged (backup) requests against endpoints with latency spikes. Three upstreams answer
// in 1 ms, but 3% of answers take 100 ms more. Hedging sends a backup to another endpoint once a
// request is slower than the observed p95 (budget 5% extra load), so the p99 should drop to about
// the p95 plus one fast answer. Figures to read: p99 with and without hedging, and the upstream
// requests served per completed request (the cost).
import { clientModule } from '../lib/registry.mjs';

const resilience = clientModule('resilience.mjs');
const spiky = { latencyMs: 1, spikeRate: 0.03, spikeMs: 100 };

export default {
  name: 'hedging',
  title: 'Issue 4: hedging against latency spikes (3 upstreams, 3% of answers +100 ms)',
  baseline: 'mesh-default',
  concurrency: 16,
  upstreams: [
    { name: 'a', profile: { ...spiky, seed: 1 } },
    { name: 'b', profile: { ...spiky, seed: 2 } },
    { name: 'c', profile: { ...spiky, seed: 3 } },
  ],
  clients: [
    {
      id: 'mesh-default',
      label: 'trellis default stack (no hedging)',
      module: resilience,
      factory: 'meshDefault',
    },
    {
      id: 'mesh-hedged',
      label: 'trellis + hedging({ quantile: 0.95, maxExtraLoad: 0.05 })',
      module: resilience,
      factory: 'meshHedged',
      options: { hedging: { quantile: 0.95, maxExtraLoad: 0.05 } },
    },
  ],
};
