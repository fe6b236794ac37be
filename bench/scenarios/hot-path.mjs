// Issue 2: the request hot path. One upstream answering at once; static discovery, round robin,
// no retries. Targets: mesh.request() >= 0.95x raw undici Pool.request throughput and <= 2 µs
// added client CPU per request; mesh.fetch() and Node's fetch on the mesh's global dispatcher no
// slower than Node's own fetch.
import { clientModule } from '../lib/registry.mjs';

const undici = clientModule('undici.mjs');
const bundled = clientModule('node-fetch.mjs');
const mesh = clientModule('mesh.mjs');

export default {
  name: 'hot-path',
  title: 'Issue 2: request hot path (1 upstream, static discovery, round robin, no retries)',
  baseline: 'undici-pool',
  compareTo: ['node-fetch', 'node-fetch-bundled'],
  upstreams: [{ name: 'up', profile: {} }],
  clients: [
    { id: 'undici-pool', label: 'undici Pool.request (raw)', module: undici, factory: 'undiciPool' },
    { id: 'mesh-request', label: 'mesh.request()', module: mesh, factory: 'meshRequest' },
    // Node's fetch in a process that has loaded the undici package (as every process using
    // trellis has): it then runs on that package's Agent, the stricter of the two references.
    {
      id: 'node-fetch',
      label: "Node's fetch (undici package's Agent)",
      module: undici,
      factory: 'nodeFetch',
    },
    // Node's fetch as shipped: Node's bundled undici and its own dispatcher.
    {
      id: 'node-fetch-bundled',
      label: "Node's fetch (bundled dispatcher)",
      module: bundled,
      factory: 'bundledNodeFetch',
    },
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
