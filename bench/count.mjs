// Per-request work that does not depend on how busy the machine is: promises and other async
// resources created (async_hooks), and bytes allocated (V8's sampling heap profiler, counting
// objects collected since). Use it to see what a change to the hot path saves when timings are
// too noisy to tell.
//   node bench/count.mjs [--requests=3000] [--concurrency=16] [--upstreams=1] [--sites=0]
//                        undici.mjs#undiciPool mesh.mjs#meshRequest [module#factory ...]
// Modules are resolved against bench/clients/ unless given as paths or URLs. Each client runs in
// turn against the same --upstreams upstream processes (every factory gets all of them as targets;
// single-endpoint clients use the first); --sites=N also lists the N largest allocation sites.
// The production client of issue 15 over three endpoints:
//   node bench/count.mjs --upstreams=3 --concurrency=64 undici.mjs#undiciPool production.mjs#meshProduction
import { createHook } from 'node:async_hooks';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { startUpstream } from './lib/processes.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '16' },
    upstreams: { type: 'string', default: '1' },
    sites: { type: 'string', default: '0' },
  },
});
const positive = (name) => {
  const n = Number(values[name]);
  if (!(Number.isInteger(n) && n > 0))
    throw new Error(`--${name} must be a positive integer, got '${values[name]}'`);
  return n;
};
const requests = positive('requests');
const concurrency = positive('concurrency');
const upstreamCount = positive('upstreams');

async function closedLoop(request, n) {
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      await request();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function asyncResources(request) {
  const counts = {};
  const hook = createHook({
    init(_id, type) {
      counts[type] = (counts[type] ?? 0) + 1;
    },
  });
  hook.enable();
  await closedLoop(request, requests);
  hook.disable();
  return counts;
}

async function allocations(session, request) {
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await closedLoop(request, requests);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const sites = new Map();
  let total = 0;
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (node.selfSize > 0) {
      const site = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
      sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return { total, sites };
}

const upstreams = await Promise.all(
  Array.from({ length: upstreamCount }, (_, i) => startUpstream(`count-${i + 1}`, {})),
);
const targets = upstreams.map((u) => u.url);
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
const per = (n) => (n / requests).toFixed(1);
console.log(
  `Node ${process.version}; ${requests} requests per client, ${concurrency} in flight, ` +
    `${upstreamCount} upstream process${upstreamCount > 1 ? 'es' : ''}`,
);
console.log('| client | bytes allocated/req | promises/req | nextTicks/req | other async resources/req |');
console.log('|---|---|---|---|---|');
const details = [];
try {
  for (const spec of positionals) {
    const [file, factory] = spec.split('#');
    const url = /^(\.|\/|file:)/.test(file)
      ? new URL(file, `file://${process.cwd()}/`).href
      : new URL(`./clients/${file}`, import.meta.url).href;
    const make = (await import(url))[factory];
    if (typeof make !== 'function') throw new Error(`${file} exports no factory '${factory}'`);
    const { request, close } = await make({ targets, path: '/', concurrency, options: {} });
    try {
      await closedLoop(request, requests); // warm-up: JIT and connections
      const { total, sites } = await allocations(session, request);
      const counts = await asyncResources(request);
      const { PROMISE = 0, TickObject = 0, ...other } = counts;
      const others = Object.entries(other)
        .map(([type, n]) => `${type} ${per(n)}`)
        .join(', ');
      console.log(
        `| ${spec} | ${Math.round(total / requests)} | ${per(PROMISE)} | ${per(TickObject)} | ${others} |`,
      );
      details.push([spec, sites]);
    } finally {
      await close();
    }
  }
} finally {
  session.disconnect();
  await Promise.all(upstreams.map((u) => u.stop()));
}
for (const [spec, sites] of Number(values.sites) > 0 ? details : []) {
  console.log(`\n${spec}: largest allocation sites (bytes/req)`);
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(values.sites))) {
    console.log(`${String(Math.round(bytes / requests)).padStart(7)}  ${site}`);
  }
}
