// Issue 15: the production request path at the cost of a bare pool. Three upstream processes
// answering at once; 64 requests in flight; every ratio is paired per repetition against the raw
// undici Pool (one endpoint) measured in the same run. Targets: the default stack with a timeout
// on every request and metrics (`mesh-production`) >= 0.92x raw Pool, <= +2 µs client CPU per
// request, and >= 1.7x the haproxy sidecar path; the default stack alone within +1 µs of undici's
// BalancedPool; mesh.fetch() and the global-dispatcher path >= 1.0x Node's fetch on Node 24 and
// >= 1.2x on Node 20 (run with --node=<binary> for another Node). Node's fetch is measured on one
// endpoint (as the figures were) and over all three in turn (`node-fetch-rotated`, the
// like-for-like reference for front-ends that spread over the same three), on the undici
// package's Agent (what it runs on in any process that has loaded trellis) and on Node's bundled
// dispatcher (`node-fetch-bundled-rotated`: Node's fetch as a service without trellis has it).
import { haproxyUnavailable, startHaproxy } from '../lib/haproxy.mjs';
import { clientModule } from '../lib/registry.mjs';

const undici = clientModule('undici.mjs');
const bundled = clientModule('node-fetch.mjs');
const production = clientModule('production.mjs');

export default {
  name: 'production',
  title: 'Issue 15: production path (3 upstreams, default stack, timeout, metrics)',
  baseline: 'undici-pool',
  compareTo: ['undici-balanced', 'haproxy', 'node-fetch', 'node-fetch-rotated', 'node-fetch-bundled-rotated'],
  upstreams: [
    { name: 'a', profile: {} },
    { name: 'b', profile: {} },
    { name: 'c', profile: {} },
  ],
  sidecars: [
    {
      name: 'haproxy',
      unavailable: haproxyUnavailable,
      start: (upstreams) => startHaproxy('haproxy', upstreams),
    },
  ],
  clients: [
    {
      id: 'undici-pool',
      label: 'undici Pool.request (raw, endpoint a)',
      module: undici,
      factory: 'undiciPool',
      upstreams: ['a'],
    },
    {
      id: 'undici-rotated',
      label: 'raw undici Pools over a, b, c in turn',
      module: undici,
      factory: 'undiciPoolRotated',
    },
    { id: 'undici-balanced', label: 'undici BalancedPool', module: undici, factory: 'undiciBalancedPool' },
    {
      id: 'haproxy',
      label: 'raw undici Pool through an haproxy sidecar',
      module: undici,
      factory: 'undiciPool',
      upstreams: ['haproxy'],
    },
    {
      id: 'mesh-default',
      label: 'mesh.request(), default stack',
      module: production,
      factory: 'meshDefault',
    },
    {
      id: 'mesh-timeout',
      label: '+ timeout: 2000 per request',
      module: production,
      factory: 'meshTimeout',
    },
    {
      id: 'mesh-metrics',
      label: '+ metrics layer',
      module: production,
      factory: 'meshMetrics',
    },
    {
      id: 'mesh-production',
      label: '+ timeout + metrics (production)',
      module: production,
      factory: 'meshProduction',
    },
    // Node's fetch in a process that has loaded the undici package (as every process using
    // trellis has): it then runs on that package's Agent. Endpoint a, like the raw Pool.
    {
      id: 'node-fetch',
      label: "Node's fetch (undici package's Agent, endpoint a)",
      module: undici,
      factory: 'nodeFetch',
      upstreams: ['a'],
    },
    {
      id: 'node-fetch-rotated',
      label: "Node's fetch (undici package's Agent) over a, b, c in turn",
      module: undici,
      factory: 'nodeFetchRotated',
    },
    {
      id: 'node-fetch-bundled',
      label: "Node's fetch (bundled dispatcher, endpoint a)",
      module: bundled,
      factory: 'bundledNodeFetch',
      upstreams: ['a'],
    },
    {
      id: 'node-fetch-bundled-rotated',
      label: "Node's fetch (bundled dispatcher) over a, b, c in turn",
      module: bundled,
      factory: 'bundledNodeFetchRotated',
    },
    {
      id: 'mesh-fetch',
      label: 'mesh.fetch(), production stack',
      module: production,
      factory: 'meshProductionFetch',
    },
    {
      id: 'mesh-global',
      label: "Node's fetch + setGlobalDispatcher(mesh.dispatcher()), production stack",
      module: production,
      factory: 'meshProductionGlobal',
    },
  ],
};
