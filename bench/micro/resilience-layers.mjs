// Micro-benchmark: CPU per request that each resilience layer adds on the success path, measured
// in-process around a `next` that answers at once (no network), so only the layer's own work
// counts. Run: npm run build && node bench/micro/resilience-layers.mjs
// Prints ns per request for each configuration, median of 5 rounds of 200 000 requests.
import { EventEmitter } from 'node:events';
import pRetry from 'p-retry';
import { RequestContext } from 'trellis';
import { deadlines, hedging, retries } from 'trellis/resilience';

const service = {
  name: 'bench',
  balancer: undefined,
  events: new EventEmitter(),
  endpoints: () => [],
  onClose() {},
};

class Body extends EventEmitter {
  destroyed = false;
}

/** A `next` that answers 200 at once; the loop "consumes" the body by closing it, as a caller would. */
function answering() {
  return () => Promise.resolve({ statusCode: 200, headers: {}, body: new Body() });
}

const configurations = {
  'no layer (baseline)': (next) => next,
  'deadline, request without deadline': (next) => deadlines().wrap(next, service),
  'deadline, request with timeout (wheel slot + token + header)': (next) => deadlines().wrap(next, service),
  'retry (default), success': (next) => retries().wrap(next, service),
  'p-retry around every call (for comparison)': (next) => (ctx) =>
    pRetry(() => next(ctx), { retries: 2, minTimeout: 0 }),
  'hedge (default: off)': (next) => hedging({ enabled: false }).wrap(next, service),
  'hedge on, no backup yet (measuring)': (next) => hedging({ minSamples: 1e9 }).wrap(next, service),
  'hedge on, armed (timer + tokens per request)': (next) => hedging({ minSamples: 10 }).wrap(next, service),
};

const N = 200_000;

async function round(name, build) {
  const call = build(answering());
  const withTimeout = name.includes('with timeout');
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const ctx = new RequestContext({ service: 'bench', path: '/', timeout: withTimeout ? 5000 : undefined });
    const res = await call(ctx);
    if (res.statusCode !== 200) throw new Error('unexpected');
    res.body.destroyed = true;
    res.body.emit('close');
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / N;
}

const results = Object.fromEntries(Object.keys(configurations).map((name) => [name, []]));
for (let r = 0; r < 5; r++) {
  for (const [name, build] of Object.entries(configurations)) {
    results[name].push(await round(name, build));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const base = median(results['no layer (baseline)']);
console.log('| configuration | ns/request | added ns vs no layer |');
console.log('|---|---|---|');
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(
    `| ${name} | ${m.toFixed(0)} | ${name.startsWith('no layer') ? '–' : `+${(m - base).toFixed(0)}`} |`,
  );
}
