// The mesh's own CPU per request with the network taken out: undici's `Client.prototype.dispatch`
// is replaced, in this process only, by one that answers every request with the same canned
// response (headers, no body) on the next microtask, calling the handler as undici's Client does.
// Then `mesh.request()` (the whole default stack, which sends with `dispatch` and its own
// handler) and a raw `pool.request()` (undici's request handler on the same `dispatch`) run the
// same closed loop, alternating, and the difference is what the mesh layers, the request context
// and the front-end cost by themselves.
//   node bench/overhead.mjs [--rounds=8] [--requests=1000000] [--dist=dist] [--core]
// `--core` measures issue 2's path instead (bench/clients/mesh.mjs's coreService: round robin, and
// no retry, breaker, health or hedge layer).
// `--dist` points at another build of trellis (e.g. one made from an older commit with
// `npx tsc -p tsconfig.build.json --outDir .tmp/dist-old`) to compare before and after.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { median } from './lib/aggregate.mjs';
import { cannedDispatch } from './lib/canned-dispatch.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    requests: { type: 'string', default: '1000000' },
    dist: { type: 'string', default: 'dist' },
    core: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const CONCURRENCY = 64;

cannedDispatch();

const dist = pathToFileURL(`${resolve(values.dist)}/`);
const { Mesh } = await import(new URL('index.js', dist).href);
const { staticEndpoints } = await import(new URL('discovery/index.js', dist).href);
// Port 9 (discard) is never contacted: the pool never opens a connection here.
const { roundRobin } = await import(new URL('balancers/index.js', dist).href);
const coreService = (s) =>
  s
    .balancer(roundRobin())
    .stack((st) => st.remove('retry').remove('breaker').remove('health').remove('hedge'));
const mesh = Mesh.builder()
  .service('bench', (s) => {
    s.discovery(staticEndpoints(['127.0.0.1:9']));
    return values.core ? coreService(s) : s;
  })
  .build();
const pool = new Pool('http://127.0.0.1:9');

async function cpuPerRequest(call) {
  const worker = async () => {
    for (let i = 0; i < requests / CONCURRENCY; i++) await call();
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requests;
}

const raw = [];
const viaMesh = [];
for (let round = 0; round < rounds; round++) {
  raw.push(await cpuPerRequest(() => pool.request({ method: 'GET', path: '/' })));
  viaMesh.push(await cpuPerRequest(() => mesh.request({ service: 'bench', path: '/' })));
}
await mesh.close();
console.log(
  `Node ${process.version}, ${values.dist}${values.core ? ' (core stack)' : ''}: pool.request ${median(raw).toFixed(3)} µs, ` +
    `mesh.request ${median(viaMesh).toFixed(3)} µs, added ${(median(viaMesh) - median(raw)).toFixed(3)} µs ` +
    `per request (median of ${rounds} rounds of ${requests})`,
);
