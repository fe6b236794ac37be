// Instructions per request, counted by valgrind rather than timed, for the fetch front-ends and
// the request path with the socket stubbed (undici's `Client.prototype.dispatch` answers every
// request from one `setImmediate` per batch: bench/lib/canned-dispatch.mjs). One client per
// process; run each twice and take the difference, so start-up cancels:
//   for n in 10000 30000; do valgrind --tool=callgrind --smc-check=all-non-file \
//     --callgrind-out-file=/tmp/cg.$n node --single-threaded bench/micro/fetch-instructions.mjs undici-mesh $n \
//     2>&1 | grep 'I   refs'; done
// then (refs at 30000 - refs at 10000) / 20000. The count does not depend on the machine's load,
// but it is not exact either: V8 collects and compiles on its own schedule, and repeated runs of
// one client have read from 0.2% to 15% apart (bench/RESULTS.md, thirteenth and fourteenth
// sessions), so compare runs made together and repeat them.
// `--single-threaded` makes V8 compile and collect on the main thread, so optimized code runs
// under valgrind as it does natively. Clients:
//   undici-agent   undici's fetch on an undici Agent, the three origins in turn (the reference)
//   undici-mesh    undici's fetch on mesh.dispatcher(), production stack (2 s timeout, metrics)
//   undici-bare    the same, with every removable layer removed (balance and transport remain)
//   node-agent     Node's built-in fetch with an undici Agent as the global dispatcher, origins in turn
//   node-mesh      Node's built-in fetch with mesh.dispatcher() (production stack) as the global dispatcher
//   node-bare      the same, with every removable layer removed
//   request-pool   raw undici Pool.request over three origins in turn
//   request-mesh   mesh.request() on the production stack
// Real sockets are left out on purpose: under valgrind a request takes about 50 times as long,
// so the mesh's interval timers (the deadline wheel's 4 ms tick) would be charged 50 times over.
import { Registry } from 'prom-client';
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';
import { deadlines } from 'trellis/resilience';
import { metrics } from 'trellis/telemetry';
import { Agent, Pool, setGlobalDispatcher, fetch as undiciFetch } from 'undici';
import { bareStack as bare } from '../lib/bare-stack.mjs';
import { cannedBatchDispatch } from '../lib/canned-dispatch.mjs';

const [which, count] = process.argv.slice(2);
cannedBatchDispatch();

// Never contacted (the stub answers); fetch refuses port 9, so another one.
const ORIGINS = ['127.0.0.1:19999', '127.0.0.2:19999', '127.0.0.3:19999'];
const TIMEOUT_MS = 2000;
let turn = 0;
/** The index of the next origin in turn, as the mesh's balancer spreads its requests over them. */
const nextTurn = () => {
  const index = turn;
  turn = turn + 1 === ORIGINS.length ? 0 : turn + 1;
  return index;
};
const meshOf = (edit) =>
  Mesh.builder()
    .service('bench', (s) => s.discovery(staticEndpoints(ORIGINS)).transport({ connections: 64 }).stack(edit))
    .build();
const production = (stack) =>
  metrics({ registry: new Registry() })
    .install(stack)
    .replace(deadlines({ timeoutMs: TIMEOUT_MS }));

function client(name) {
  if (name === 'undici-agent') {
    const agent = new Agent({ connections: 64 });
    return {
      call: () => undiciFetch(`http://${ORIGINS[nextTurn()]}/`, { dispatcher: agent }),
      close: () => agent.close(),
    };
  }
  if (name === 'undici-mesh' || name === 'undici-bare') {
    const mesh = meshOf(name === 'undici-mesh' ? production : bare);
    const dispatcher = mesh.dispatcher();
    return { call: () => undiciFetch('http://bench/', { dispatcher }), close: () => mesh.close() };
  }
  if (name === 'node-agent') {
    const agent = new Agent({ connections: 64 });
    setGlobalDispatcher(agent);
    return { call: () => globalThis.fetch(`http://${ORIGINS[nextTurn()]}/`), close: () => agent.close() };
  }
  if (name === 'node-mesh' || name === 'node-bare') {
    const mesh = meshOf(name === 'node-mesh' ? production : bare);
    setGlobalDispatcher(mesh.dispatcher());
    return { call: () => globalThis.fetch('http://bench/'), close: () => mesh.close() };
  }
  if (name === 'request-pool') {
    const pools = ORIGINS.map((origin) => new Pool(`http://${origin}`, { connections: 64 }));
    return {
      call: async () => {
        const { body } = await pools[nextTurn()].request({ method: 'GET', path: '/' });
        return { text: () => body.text() };
      },
      close: () => Promise.all(pools.map((pool) => pool.close())),
    };
  }
  if (name === 'request-mesh') {
    const mesh = meshOf(production);
    return {
      call: async () => {
        const { body } = await mesh.request({ service: 'bench', path: '/', timeout: TIMEOUT_MS });
        return { text: () => body.text() };
      },
      close: () => mesh.close(),
    };
  }
  throw new Error(
    `no client '${name}': undici-agent, undici-mesh, undici-bare, node-agent, node-mesh, node-bare, request-pool, request-mesh`,
  );
}

const { call, close } = client(which);
const total = Number(count ?? 10000);
let started = 0;
const worker = async () => {
  while (started++ < total) await (await call()).text();
};
await Promise.all(Array.from({ length: 64 }, worker));
await close();
