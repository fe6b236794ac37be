// Instructions per request, counted by valgrind rather than timed, for the fetch front-end and
// the request path with the socket stubbed (undici's `Client.prototype.dispatch` answers every
// request from one `setImmediate` per batch: bench/lib/canned-dispatch.mjs). The paired fetch
// figures swing by ±0.08 between runs on a 2-core machine (bench/RESULTS.md, thirteenth session);
// an instruction count does not depend on the load. One client per process; run each twice and
// take the difference, so start-up and warm-up cancel:
//   for n in 10000 30000; do valgrind --tool=callgrind --smc-check=all-non-file \
//     --callgrind-out-file=/tmp/cg.$n node --single-threaded bench/micro/fetch-instructions.mjs undici-mesh $n \
//     2>&1 | grep 'I   refs'; done
// then (refs at 30000 - refs at 10000) / 20000. `--single-threaded` makes V8 compile on the main
// thread, so optimized code runs under valgrind as it does natively. Clients:
//   undici-agent   undici's fetch on an undici Agent (the reference)
//   undici-mesh    undici's fetch on mesh.dispatcher(), production stack (2 s timeout, metrics)
//   undici-bare    the same, with every removable layer removed (balance and transport remain)
//   request-pool   raw undici Pool.request over three origins in turn
//   request-mesh   mesh.request() on the production stack
import { Registry } from 'prom-client';
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';
import { deadlines } from 'trellis/resilience';
import { metrics } from 'trellis/telemetry';
import { Agent, Pool, fetch as undiciFetch } from 'undici';
import { cannedBatchDispatch } from '../lib/canned-dispatch.mjs';

const [which, count] = process.argv.slice(2);
cannedBatchDispatch();

// Never contacted (the stub answers); fetch refuses port 9, so another one.
const ORIGINS = ['127.0.0.1:19999', '127.0.0.2:19999', '127.0.0.3:19999'];
const meshOf = (edit) =>
  Mesh.builder()
    .service('bench', (s) => s.discovery(staticEndpoints(ORIGINS)).transport({ connections: 64 }).stack(edit))
    .build();
const REMOVABLE = ['route', 'tracing', 'deadline', 'breaker', 'retry', 'hedge', 'tracing-attempt', 'health'];
const production = (stack) =>
  metrics({ registry: new Registry() })
    .install(stack)
    .replace(deadlines({ timeoutMs: 2000 }));

function client(name) {
  if (name === 'undici-agent') {
    const agent = new Agent({ connections: 64 });
    return {
      call: () => undiciFetch(`http://${ORIGINS[0]}/`, { dispatcher: agent }),
      close: () => agent.close(),
    };
  }
  if (name === 'undici-mesh' || name === 'undici-bare') {
    const mesh = meshOf(
      name === 'undici-mesh' ? production : (st) => REMOVABLE.reduce((s, layer) => s.remove(layer), st),
    );
    const dispatcher = mesh.dispatcher();
    return { call: () => undiciFetch('http://bench/', { dispatcher }), close: () => mesh.close() };
  }
  if (name === 'request-pool') {
    const pools = ORIGINS.map((origin) => new Pool(`http://${origin}`, { connections: 64 }));
    let next = 0;
    return {
      call: async () => {
        const pool = pools[next];
        next = next + 1 === pools.length ? 0 : next + 1;
        const { body } = await pool.request({ method: 'GET', path: '/' });
        return { text: () => body.text() };
      },
      close: () => Promise.all(pools.map((pool) => pool.close())),
    };
  }
  if (name === 'request-mesh') {
    const mesh = meshOf(production);
    return {
      call: async () => {
        const { body } = await mesh.request({ service: 'bench', path: '/', timeout: 2000 });
        return { text: () => body.text() };
      },
      close: () => mesh.close(),
    };
  }
  throw new Error(`no client '${name}': undici-agent, undici-mesh, undici-bare, request-pool, request-mesh`);
}

const { call, close } = client(which);
const total = Number(count ?? 10000);
let started = 0;
const worker = async () => {
  while (started++ < total) await (await call()).text();
};
await Promise.all(Array.from({ length: 64 }, worker));
await close();
