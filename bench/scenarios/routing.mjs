// Issue 5 (routing): what routing costs per request, and what changing the rules under load does
// to latency. Two upstreams answering at once; `bench` routes to the first, `bench-v2` to the
// second. mesh-request has the route layer with no rules (the null check every service pays).
import { clientModule } from '../lib/registry.mjs';

const undici = clientModule('undici.mjs');
const mesh = clientModule('mesh.mjs');
const routing = clientModule('routing.mjs');

export default {
  name: 'routing',
  title: 'Issue 5: routing rules (2 upstreams; split, mirror, rules changed every 100 ms under load)',
  baseline: 'undici-pool',
  upstreams: [
    { name: 'v1', profile: {} },
    { name: 'v2', profile: {} },
  ],
  clients: [
    { id: 'undici-pool', label: 'undici Pool.request (raw, v1 only)', module: undici, factory: 'undiciPool' },
    {
      id: 'mesh-request',
      label: 'mesh.request(), no rules',
      module: mesh,
      factory: 'meshRequest',
      upstreams: ['v1'],
    },
    { id: 'mesh-split', label: 'split 90/10 (fixed)', module: routing, factory: 'meshSplit' },
    {
      id: 'mesh-rule-change',
      label: 'split changed every 100 ms',
      module: routing,
      factory: 'meshRuleChanges',
    },
    {
      id: 'mesh-rule-reapply',
      label: 'same 90/10 split re-applied every 100 ms',
      module: routing,
      factory: 'meshRuleChanges',
      options: { steps: [10] },
    },
    { id: 'mesh-mirror', label: '10% mirrored to v2', module: routing, factory: 'meshMirror' },
  ],
};
