// Issue 5: the route layer's own cost, without the network. Builds the public `routes()` layer
// around a stub `next` (an already-resolved promise) and times the per-request decision and the
// heap it allocates, then times how long a rules update takes to validate and compile. Imports
// dist/ (`npm run build`).
//   node --expose-gc bench/routing-micro.mjs [--rounds=5]
// Prints markdown tables: medians over rounds, each round 1e6 calls after a warm-up. Heap growth
// per call is measured over 1e6 calls after a full GC (needs --expose-gc); any steady allocation
// shows as several bytes per call.
import { parseArgs } from 'node:util';
import { RequestContext } from 'trellis';
import { routes, rulesSource } from 'trellis/routing';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const CALLS = 1_000_000;

const done = Promise.resolve({ statusCode: 200 });
const stub = () => done;
const handle = {
  name: 'svc',
  lookup: (name) => (name === 'svc' || name === 'svc-v2' || name === 'shadow' ? stub : undefined),
  onClose() {},
};

function layer(rules) {
  return routes(rules === undefined ? undefined : rulesSource(rules)).wrap(stub, handle);
}

const split = [
  { backend: 'svc', weight: 90 },
  { backend: 'svc-v2', weight: 10 },
];
const cases = [
  ['no rules (default stack)', layer(undefined)],
  ['rules for other services only', layer({ services: { other: { routes: [{ backend: 'other' }] } } })],
  ['split 90/10', layer({ services: { svc: { routes: [{ split }] } } })],
  [
    'header match (miss), then split 90/10',
    layer({
      services: {
        svc: { routes: [{ match: { headers: { 'x-canary': '1' } }, backend: 'svc-v2' }, { split }] },
      },
    }),
  ],
  [
    'path prefix + header match (hit)',
    layer({
      services: {
        svc: {
          routes: [
            { match: { path: '/api/', headers: { 'x-debug': { present: true } } }, backend: 'svc-v2' },
          ],
        },
      },
    }),
    { 'x-debug': '1' },
  ],
];

function time(service, headers) {
  const ctx = new RequestContext({
    service: 'svc',
    path: '/api/users/42',
    headers: headers ?? { accept: '*/*' },
  });
  for (let i = 0; i < 200_000; i++) service(ctx);
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) service(ctx);
  return Number(process.hrtime.bigint() - started) / CALLS;
}

function heapPerCall(service, headers) {
  if (typeof globalThis.gc !== 'function') return 'n/a (run with --expose-gc)';
  const ctx = new RequestContext({
    service: 'svc',
    path: '/api/users/42',
    headers: headers ?? { accept: '*/*' },
  });
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < CALLS; i++) service(ctx);
  return ((process.memoryUsage().heapUsed - before) / CALLS).toFixed(2);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [label, service, headers] of cases) {
  const samples = Array.from({ length: rounds }, () => time(service, headers));
  rows.push(`| ${label} | ${median(samples).toFixed(1)} | ${heapPerCall(service, headers)} |`);
}

function tableOf(services) {
  const table = { services: {} };
  for (let i = 0; i < services; i++) {
    table.services[`svc-${i}`] = {
      routes: [
        { match: { headers: { 'x-canary': '1' } }, backend: 'svc-v2' },
        { split, mirror: { backend: 'shadow', percent: 1 } },
      ],
    };
  }
  table.services.svc = { routes: [{ split }] };
  return table;
}
const source = rulesSource();
routes(source).wrap(stub, handle);
const updates = [];
for (const services of [1, 50]) {
  const samples = [];
  for (let i = 0; i < 200; i++) {
    const table = tableOf(services);
    const started = process.hrtime.bigint();
    source.set(table);
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  updates.push(`| ${services + 1} services | ${median(samples.slice(50)).toFixed(1)} |`);
}

process.stdout.write(
  `Node ${process.version}; ${rounds} rounds of ${CALLS} calls, median.\n\n` +
    `| route layer, per request (stub next) | ns/call | heap bytes/call |\n|---|---|---|\n${rows.join('\n')}\n\n` +
    `| rules update (validate + compile + apply, one subscribed service) | µs/update |\n|---|---|\n${updates.join('\n')}\n`,
);
