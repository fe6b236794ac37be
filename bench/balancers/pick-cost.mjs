// Issue 3 micro-benchmark: the cost of one pick at 10, 1 000 and 10 000 endpoints for every
// balancer, and how long the event loop is blocked when discovery replaces a set of 10 000
// endpoints (the balancer's update() alone, and the whole mesh path: validation, endpoint
// objects, balancer, health layer). Single process, no network: the endpoints are never
// contacted. Medians of 7 rounds of 200 000 picks each (picks and observes timed apart).
//   npm run build && node bench/balancers/pick-cost.mjs
import os from 'node:os';
import { Mesh, RequestContext } from 'trellis';
import {
  aperture,
  p2cLeastLoaded,
  p2cPeakEwma,
  random,
  ringHash,
  roundRobin,
  weighted,
  zoneAware,
} from 'trellis/balancers';
// MeshEndpoint is internal (not exported by trellis): the benchmark builds endpoints directly.
import { MeshEndpoint } from '../../dist/service/mesh-endpoint.js';

const SIZES = [10, 1_000, 10_000];
const PICKS = 200_000;
const ROUNDS = 7;

function record(i) {
  const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return { id: `${host}:80`, host, port: 80, weight: 1 + (i % 3), zone: i % 2 ? 'a' : 'b', metadata: {} };
}

const factories = {
  'p2c-peak-ewma': () => p2cPeakEwma(),
  'p2c-least-loaded': () => p2cLeastLoaded(),
  'round-robin': () => roundRobin(),
  random: () => random(),
  weighted: () => weighted(),
  'ring-hash (header key)': () => ringHash({ key: 'x-user' }),
  'aperture (client 3 of 40)': () => aperture({ instanceId: 3, instanceCount: 40 }),
  'zone-aware(p2c-peak-ewma)': () => zoneAware({ zone: 'a' }),
};

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const contexts = Array.from(
  { length: 1024 },
  (_, i) => new RequestContext({ service: 's', path: '/', headers: { 'x-user': `user-${i}` } }),
);

const lines = [
  `Node ${process.version}, ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (shared machine).`,
  '',
  '| balancer | ns/pick at 10 | at 1 000 | at 10 000 | ns/observe at 1 000 | update() of 10 000 endpoints, ms |',
  '|---|---|---|---|---|---|',
];
for (const [name, factory] of Object.entries(factories)) {
  const cells = [];
  let updateMs = 0;
  let observeNs = 0;
  for (const size of SIZES) {
    const endpoints = Array.from({ length: size }, (_, i) => new MeshEndpoint(record(i), {}));
    const balancer = factory().create('bench');
    balancer.update(endpoints);
    const rounds = [];
    const observes = [];
    const chosen = new Array(1024);
    for (let round = 0; round < ROUNDS; round++) {
      let started = process.hrtime.bigint();
      for (let i = 0; i < PICKS; i++) chosen[i & 1023] = balancer.pick(contexts[i & 1023]);
      rounds.push(Number(process.hrtime.bigint() - started) / PICKS);
      // Finish what was picked, as the balance layer would (ring hash and zone awareness count load).
      started = process.hrtime.bigint();
      for (let i = 0; i < PICKS; i++) balancer.observe?.(chosen[i & 1023], 1, true);
      observes.push(Number(process.hrtime.bigint() - started) / PICKS);
    }
    cells.push(median(rounds).toFixed(0));
    if (size === 1_000) observeNs = median(observes);
    if (size === 10_000) {
      const updates = [];
      for (let round = 0; round < ROUNDS; round++) {
        const started = performance.now();
        balancer.update(endpoints.slice(round)); // a changed set each time
        updates.push(performance.now() - started);
      }
      updateMs = median(updates);
    }
  }
  lines.push(`| ${name} | ${cells.join(' | ')} | ${observeNs.toFixed(0)} | ${updateMs.toFixed(2)} |`);
}

// The whole discovery path: a resolver publishing 10 000 endpoints to a mesh service.
let sink;
const mesh = Mesh.builder()
  .service('big', (s) =>
    s.discovery({
      description: 'bench resolver',
      resolve(given) {
        sink = given;
        return { close() {} };
      },
    }),
  )
  .build();
const sets = [0, 1, 2, 3, 4, 5].map((shift) =>
  Array.from({ length: 10_000 }, (_, i) => record(i + shift * 100)),
);
const stalls = [];
for (const set of sets) {
  const started = performance.now();
  sink.update(set.map((r) => `${r.host}:${r.port}`));
  stalls.push(performance.now() - started);
}
await mesh.close();
lines.push(
  '',
  `Whole mesh path (resolver update of 10 000 endpoints, 100 of them new each time: validation, endpoint objects, default balancer, health layer): median ${median(stalls.slice(1)).toFixed(1)} ms, first ${stalls[0].toFixed(1)} ms.`,
);
process.stdout.write(`${lines.join('\n')}\n`);
