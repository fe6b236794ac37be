// The production path's own client CPU per request with the socket taken out: in this process
// only, undici's `Client.prototype.dispatch` (where undici's Pool and the mesh's connection pool
// both end) answers every request with the same small response (bench/lib/canned-dispatch.mjs)
// (headers, a 32-byte body, completion), through the handler undici's `request()` gave it. The
// answers come in batches from one `setImmediate`, as a socket read delivers them: the event loop
// turns, so the immediates and timers undici and the mesh schedule run as they would. Everything above the socket still runs: undici's request API (its abort
// signal listener, its body stream), the caller reading the body, and every mesh layer. So a
// per-request timeout's whole cost shows (the signal undici listens to included), which a stub of
// `Pool.prototype.request` (bench/overhead.mjs) would skip. Variants run in the same process in
// alternating rounds; the table gives median µs per request and the paired differences (within
// each round) to the raw pool and to the default stack.
//   node bench/production-cost.mjs [--rounds=8] [--requests=200000] [--only=raw,production]
// To see where one variant's time goes, profile it alone (shares, not absolute figures):
//   node --cpu-prof --cpu-prof-dir=bench/results/prof --cpu-prof-interval=50 \
//     bench/production-cost.mjs --only=production && node bench/profile-summary.mjs --attribute=trellis/ <file>
import { parseArgs } from 'node:util';
import { meshDefault, meshMetrics, meshProduction, meshTimeout } from './clients/production.mjs';
import { undiciPool } from './clients/undici.mjs';
import { median } from './lib/aggregate.mjs';
import { cannedBatchDispatch } from './lib/canned-dispatch.mjs';
import { turnOrder } from './lib/turns.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    requests: { type: 'string', default: '200000' },
    only: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const CONCURRENCY = 64;

cannedBatchDispatch();

// Never contacted (the stub answers): three endpoints, as in scenarios/production.mjs.
const targets = ['http://127.0.0.1:9', 'http://127.0.0.2:9', 'http://127.0.0.3:9'];
const VARIANTS = {
  raw: ['raw undici Pool.request', undiciPool],
  default: ['mesh.request(), default stack', meshDefault],
  timeout: ['+ timeout per request', meshTimeout],
  metrics: ['+ metrics layer', meshMetrics],
  production: ['+ timeout + metrics (production)', meshProduction],
};
const chosen = values.only ? values.only.split(',') : Object.keys(VARIANTS);
for (const name of chosen) {
  if (!VARIANTS[name])
    throw new Error(`--only: no variant '${name}'; there are ${Object.keys(VARIANTS).join(', ')}`);
}

async function cpuPerRequest(request) {
  const worker = async () => {
    for (let i = 0; i < requests / CONCURRENCY; i++) await request();
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requests;
}

const clients = [];
for (const name of chosen) {
  const [label, factory] = VARIANTS[name];
  const client = await factory({ targets, path: '/', concurrency: CONCURRENCY, options: {} });
  const status = await client.request();
  if (status !== 200) throw new Error(`${name}: the stubbed request answered ${status}, not 200`);
  clients.push({ name, label, client, micros: [] });
}
for (let round = 0; round < rounds; round++) {
  for (const c of turnOrder(clients, round)) c.micros.push(await cpuPerRequest(c.client.request));
}
await Promise.all(clients.map((c) => c.client.close()));

const raw = clients.find((c) => c.name === 'raw');
const def = clients.find((c) => c.name === 'default');
// Paired per round: each round measures every variant once, so a difference taken within the
// round cancels most of the drift a shared machine adds between rounds.
const paired = (c, base) =>
  base && c !== base ? median(c.micros.map((us, i) => us - base.micros[i])).toFixed(2) : '–';
console.log(
  `Node ${process.version}; ${rounds} rounds of ${requests} requests, ${CONCURRENCY} in flight, socket stubbed`,
);
console.log('| variant | client CPU µs/req | added vs raw Pool (paired) | added vs default stack (paired) |');
console.log('|---|---|---|---|');
for (const c of clients) {
  console.log(`| ${c.label} | ${median(c.micros).toFixed(2)} | ${paired(c, raw)} | ${paired(c, def)} |`);
}
