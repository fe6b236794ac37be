// Issue 2: the request hot path. One upstream answering at once; static discovery, round robin,
// no retries. Targets: mesh.request() >= 0.95x raw undici Pool.request throughput and <= 2 µs
// added client CPU per request; mesh.fetch() and Node's fetch on the mesh's global dispatcher no
// slower than Node's own fetch.
import { clientModule } from '../lib/registry.mjs';

const undici = clientModule('undici.mjs');
const mesh = clientModule('mesh.mjs');

export default {
  name: 'hot-path',
  title: 'Issue 2: request hot path (1 upstream, static discovery, round robin, no retries)',
  baseline: 'undici-pool',
  upstreams: [{ name: 'up', profile: {} }],
  clients: [
    { id: 'undici-pool', label: 'undici Pool.request (raw)', module: undici, factory: 'undiciPool' },
    { id: 'mesh-request', label: 'mesh.request()', module: mesh, factory: 'meshRequest' },
    { id: 'node-fetch', label: "Node's fetch", module: undici, factory: 'nodeFetch' },
    { id: 'undici-fetch', label: "undici's fetch", module: undici, factory: 'undiciFetchClient' },
    { id: 'mesh-fetch', label: 'mesh.fetch()', module: mesh, factory: 'meshFetch' },
    {
      id: 'mesh-global',
      label: "Node's fetch + setGlobalDispatcher(mesh.dispatcher())",
      module: mesh,
      factory: 'meshGlobalDispatcher',
    },
  ],
};
