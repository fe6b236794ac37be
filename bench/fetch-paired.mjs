// The fetch front-ends against Node's fetch, paired: every client in ONE process, over real
// sockets to three upstream processes, taking turns round by round, so that a difference is
// taken within a round and the drift of a shared machine between rounds cancels (end-to-end runs
// of one process per client swing by 20% and more on 2 cores: see bench/RESULTS.md). Clients:
//   node-fetch   Node's built-in fetch on undici's Agent (the package's, as in any process that
//                loads undici), URLs rotated over the three upstreams: the reference
//   undici-fetch the undici package's fetch on the same Agent, rotated (what mesh.fetch() runs on)
//   mesh-fetch   mesh.fetch() on the production stack (2 s default timeout, metrics layer)
//   mesh-global  Node's fetch after setGlobalDispatcher(mesh.dispatcher()), same stack
//   bare-global  the same with every removable layer removed: the front-end and transport alone
// The global dispatcher is switched before each round of a Node's-fetch client.
//   npm run build && node bench/fetch-paired.mjs [--rounds=7] [--requests=20000] [--only=a,b]
// (--only=<one client> with --cpu-prof profiles that client alone; ratios are then to the first named).
// Prints client CPU µs per request (median of the rounds) and the paired ratio of Node's fetch's
// CPU to each client's (above 1.00: the client costs less CPU per request than Node's fetch).
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';
import { deadlines } from 'trellis/resilience';
import { metrics } from 'trellis/telemetry';
import { Agent, setGlobalDispatcher, fetch as undiciFetch } from 'undici';
import { median } from './lib/aggregate.mjs';
import { bareStack } from './lib/bare-stack.mjs';
import { startUpstream } from './lib/processes.mjs';
import { turnOrder } from './lib/turns.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    requests: { type: 'string', default: '20000' },
    only: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const REQUESTS = Number(values.requests);
const IN_FLIGHT = 64;

const upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)));
const agent = new Agent();
const endpoints = upstreams.map((u) => `127.0.0.1:${u.port}`);
const mesh = Mesh.builder()
  .service('bench', (s) =>
    s.discovery(staticEndpoints(endpoints)).stack((st) =>
      metrics({ registry: new Registry() })
        .install(st)
        .replace(deadlines({ timeoutMs: 2000 })),
    ),
  )
  .build();
const meshDispatcher = mesh.dispatcher();
// The same mesh with every removable layer removed: what the front-end and transport cost alone.
const bareMesh = Mesh.builder()
  .service('bench', (s) => s.discovery(staticEndpoints(endpoints)).stack(bareStack))
  .build();
const bareDispatcher = bareMesh.dispatcher();

const urls = upstreams.map((u) => `${u.url}/`);
let turn = 0;
const rotated = () => {
  const url = urls[turn];
  turn = turn + 1 === urls.length ? 0 : turn + 1;
  return url;
};
const clients = {
  'node-fetch': { global: agent, call: () => globalThis.fetch(rotated()) },
  'undici-fetch': { call: () => undiciFetch(rotated(), { dispatcher: agent }) },
  'mesh-fetch': { call: () => mesh.fetch('http://bench/') },
  'mesh-global': { global: meshDispatcher, call: () => globalThis.fetch('http://bench/') },
  'bare-global': { global: bareDispatcher, call: () => globalThis.fetch('http://bench/') },
};

async function cpuPerRequest({ global, call }, n) {
  if (global !== undefined) setGlobalDispatcher(global);
  let started = 0;
  const worker = async () => {
    while (started++ < n) {
      const response = await call();
      await response.text();
      if (response.status !== 200) throw new Error(`status ${response.status}`);
    }
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

const names = values.only ? values.only.split(',') : Object.keys(clients);
for (const name of names) if (!clients[name]) throw new Error(`--only: no client '${name}'`);
const micros = Object.fromEntries(names.map((name) => [name, []]));
try {
  for (const name of names) await cpuPerRequest(clients[name], REQUESTS / 4); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const order = turnOrder(names, round);
    for (const name of order) micros[name].push(await cpuPerRequest(clients[name], REQUESTS));
  }
} finally {
  await mesh.close();
  await bareMesh.close();
  await agent.close();
  await Promise.all(upstreams.map((u) => u.stop()));
}

const reference = micros['node-fetch'] ?? micros[names[0]];
console.log(
  `Node ${process.version}; ${ROUNDS} rounds x ${REQUESTS} requests, ${IN_FLIGHT} in flight, 3 upstream processes, one client process`,
);
console.log("| client | client CPU µs/req (median) | × Node's fetch (paired, CPU ratio) |");
console.log('|---|---|---|');
for (const name of names) {
  const ratio = median(micros[name].map((us, i) => reference[i] / us));
  console.log(`| ${name} | ${median(micros[name]).toFixed(1)} | ${ratio.toFixed(2)} |`);
}
