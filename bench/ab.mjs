// Paired A/B of client factories in ONE process, for small differences on a busy machine: the
// clients take turns in short blocks (rotated: A B C, B C A, ...), each block a closed loop of `--block`
// requests at `--concurrency` in flight, so whatever else the machine does lands on both alike.
// Reports, per client, the median CPU µs/request and req/s over blocks, and the median of the
// per-pair differences against the first client. Not a substitute for `run.mjs` (one process per
// client): use it to decide between variants of a hot path, then confirm with run.mjs.
// The clients of one process are not on an equal footing: of identical raw Pool clients, the one
// created second reads 0.3 to 0.75 µs per request dearer than the first, the third about the
// same as the first (bench/RESULTS.md, twelfth session). Swap the order between runs and take the
// difference both ways round (builds-real.mjs does), and do not pair two builds in one process.
//   node bench/ab.mjs [--blocks=30] [--block=2000] [--concurrency=64] [--path=/]
//                     [--upstreams=1] [--pin]
//                     undici.mjs#undiciPool mesh.mjs#meshRequest [more module#factory ...]
// --upstreams=N: N upstreams, all in one upstream process (each on its own port; bench/README.md).
// --pin: this process on CPU 0 and the upstream process on CPU 1 (taskset).
// Modules are resolved against bench/clients/ unless given as paths or URLs.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { median } from './lib/aggregate.mjs';
import { pinProcesses, startUpstreams } from './lib/processes.mjs';
import { turnOrder } from './lib/turns.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    blocks: { type: 'string', default: '30' },
    block: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '64' },
    path: { type: 'string', default: '/' },
    upstreams: { type: 'string', default: '1' },
    pin: { type: 'boolean', default: false },
  },
});
const blocks = Number(values.blocks);
const blockSize = Number(values.block);
const concurrency = Number(values.concurrency);
if (positionals.length < 2) throw new Error('name at least two clients as module#factory');

async function runBlock(request, n) {
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      await request();
    }
  };
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / n, rps: n / seconds };
}

if (values.pin) {
  execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  pinProcesses({ upstream: '1' });
}
const names = Array.from({ length: Number(values.upstreams) }, (_, i) => `ab-${i + 1}`);
const upstreams = await startUpstreams(
  names.map((name) => ({ name })),
  { shared: true },
);
const clients = [];
try {
  for (const spec of positionals) {
    const [file, factory] = spec.split('#');
    const url = /^(\.|\/|file:)/.test(file)
      ? new URL(file, `file://${process.cwd()}/`).href
      : new URL(`./clients/${file}`, import.meta.url).href;
    const make = (await import(url))[factory];
    if (typeof make !== 'function') throw new Error(`${file} exports no factory '${factory}'`);
    const client = await make({
      targets: upstreams.map((u) => u.url),
      path: values.path,
      concurrency,
      options: {},
    });
    clients.push({ name: spec, ...client, cpu: [], rps: [] });
  }
  for (const c of clients) await runBlock(c.request, blockSize); // warm-up: JIT and connections
  for (let b = 0; b < blocks; b++) {
    const order = turnOrder(clients, b);
    for (const c of order) {
      const { cpuUs, rps } = await runBlock(c.request, blockSize);
      c.cpu.push(cpuUs);
      c.rps.push(rps);
    }
  }
} finally {
  for (const c of clients) await c.close?.();
  await Promise.all(upstreams.map((u) => u.stop()));
}

const [base] = clients;
console.log(
  `Node ${process.version}; ${blocks} blocks x ${blockSize} requests, ${concurrency} in flight, ` +
    `${names.length} upstream(s) in one process${values.pin ? ', pinned (client CPU 0, upstream CPU 1)' : ''}`,
);
console.log(
  '| client | CPU µs/req median (min) | added CPU µs/req (paired median) | req/s median | × first (paired median) |',
);
console.log('|---|---|---|---|---|');
for (const c of clients) {
  const added = median(c.cpu.map((x, i) => x - base.cpu[i]));
  const ratio = median(c.rps.map((x, i) => x / base.rps[i]));
  console.log(
    `| ${c.name} | ${median(c.cpu).toFixed(2)} (${Math.min(...c.cpu).toFixed(2)}) | ${added >= 0 ? '+' : ''}${added.toFixed(2)} | ${Math.round(median(c.rps))} | ${ratio.toFixed(3)} |`,
  );
}
