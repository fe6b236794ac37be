// Before and after: the mesh's own CPU per request in two (or more) builds of trellis, each build
// measured in a process of its own, the builds taking turns, with the socket stubbed below
// `dispatch` (bench/lib/canned-dispatch.mjs). bench/overhead.mjs measures a raw pool and the mesh
// in one process; between builds that send differently (one through undici's request(), one
// through dispatch() with its own handler), the raw pool's figure moves with what else ran in
// the process, so the builds are compared on the mesh's absolute figure here, and a raw pool
// runs in processes of its own as the reference.
//   node bench/builds.mjs [--reps=5] [--requests=200000] [--stack=default|core|timeout|metrics|production] <dist> <dist> ...
// (`metrics` adds the metrics layer to the default stack; `production` adds it and a timeout per request.)
// e.g. the build of an older commit against the current one:
//   git archive <commit> | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/ &&
//   (cd /tmp/old && npx tsc -p tsconfig.build.json --outDir "$OLDPWD/.tmp/dist-old") &&
//   npm run build && node bench/builds.mjs .tmp/dist-old dist
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/aggregate.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string', default: '5' },
    requests: { type: 'string', default: '200000' },
    stack: { type: 'string', default: 'default' },
    child: { type: 'string' },
  },
});
const requests = Number(values.requests);
const CONCURRENCY = 64;
const ENDPOINTS = ['127.0.0.1:9', '127.0.0.1:10', '127.0.0.1:11'];

/** One measurement in this process: µs of CPU per request, after a warm-up of half as many. */
async function child(target) {
  const { cannedDispatch } = await import('./lib/canned-dispatch.mjs');
  const { Pool } = await import('undici');
  cannedDispatch();
  let call;
  let close = async () => {};
  if (target === 'raw') {
    const pool = new Pool(`http://${ENDPOINTS[0]}`);
    call = async () => (await pool.request({ method: 'GET', path: '/' })).body.dump();
  } else {
    const dist = pathToFileURL(`${resolve(target)}/`);
    const { Mesh } = await import(new URL('index.js', dist).href);
    const { staticEndpoints } = await import(new URL('discovery/index.js', dist).href);
    const { roundRobin } = await import(new URL('balancers/index.js', dist).href);
    const { metrics } = await import(new URL('telemetry/index.js', dist).href);
    const { Registry } = await import('prom-client');
    const withMetrics = values.stack === 'metrics' || values.stack === 'production';
    const mesh = Mesh.builder()
      .service('bench', (s) => {
        s.discovery(staticEndpoints(ENDPOINTS));
        if (withMetrics) return s.stack(metrics({ registry: new Registry() }).install);
        if (values.stack !== 'core') return s;
        return s
          .balancer(roundRobin())
          .stack((st) => st.remove('retry').remove('breaker').remove('health').remove('hedge'));
      })
      .build();
    const options =
      values.stack === 'timeout' || values.stack === 'production'
        ? { service: 'bench', path: '/', timeout: 2000 }
        : { service: 'bench', path: '/' };
    call = async () => (await mesh.request(options)).body.dump();
    close = () => mesh.close();
  }
  const run = async (n) => {
    let left = n;
    const worker = async () => {
      while (left-- > 0) await call();
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };
  await run(requests / 2);
  const before = process.cpuUsage();
  await run(requests);
  const used = process.cpuUsage(before);
  await close();
  process.stdout.write(`${(used.user + used.system) / requests}\n`);
}

async function main() {
  if (values.child) return child(values.child);
  if (positionals.length === 0) throw new Error('name at least one build folder (e.g. dist)');
  const targets = ['raw', ...positionals];
  const results = new Map(targets.map((t) => [t, []]));
  const self = fileURLToPath(import.meta.url);
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + rep) % targets.length];
      const out = execFileSync(
        process.execPath,
        [self, `--child=${target}`, `--requests=${requests}`, `--stack=${values.stack}`],
        { encoding: 'utf8' },
      );
      results.get(target).push(Number(out.trim()));
    }
  }
  const raw = median(results.get('raw'));
  console.log(
    `Node ${process.version}; ${values.stack} stack over ${ENDPOINTS.length} endpoints, socket stubbed; ` +
      `${values.reps} runs x ${requests} requests, 64 in flight, one process per run`,
  );
  console.log('| build | µs/req median (min–max) | added vs raw pool |');
  console.log('|---|---|---|');
  for (const [target, xs] of results) {
    const m = median(xs);
    const name = target === 'raw' ? 'raw undici Pool.request' : target;
    const added = target === 'raw' ? '–' : `${m - raw >= 0 ? '+' : ''}${(m - raw).toFixed(3)}`;
    console.log(
      `| ${name} | ${m.toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}) | ${added} |`,
    );
  }
}

await main();
