// Retry amplification at a total outage: every upstream answers 503. Each client process offers
// exactly `--requests` requests (closed loop, `--concurrency` in flight); the upstreams count what
// reaches them. Figure: upstream requests per offered request (1.0 = no retries at all).
//   npm run build && node bench/retry-amplification.mjs [--reps=3] [--requests=3000] [--concurrency=32]
// Clients run in their own processes, interleaved per repetition; the table shows medians.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { median } from './lib/aggregate.mjs';
import { startUpstream, stopProcess } from './lib/processes.mjs';

const { values: flags } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    requests: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '32' },
    child: { type: 'string' },
  },
});

const CLIENTS = [
  {
    id: 'mesh-default',
    label: 'trellis default stack (2 retries, 20% budget + 10/s)',
    factory: 'meshDefault',
  },
  { id: 'p-retry', label: 'p-retry, 3 retries, around BalancedPool', factory: 'naivePRetry' },
  { id: 'undici-retry', label: "undici's retry interceptor, 3 retries", factory: 'undiciRetryInterceptor' },
];

if (flags.child) {
  // Child: offer the requests, print the outcome as one JSON line.
  const spec = JSON.parse(flags.child);
  const module = await import(new URL('./clients/resilience.mjs', import.meta.url).href);
  const client = await module[spec.factory]({
    targets: spec.targets,
    path: '/',
    concurrency: spec.concurrency,
    options: {},
  });
  let next = 0;
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (next++ < spec.requests) {
        try {
          if ((await client.request()) < 400) ok++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  process.stdout.write(`${JSON.stringify({ ok, errors, seconds })}\n`);
  process.exit(0);
}

function runChild(spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [new URL(import.meta.url).pathname, `--child=${JSON.stringify(spec)}`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const timer = setTimeout(() => stopProcess(child), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()));
      else reject(new Error(`client ${spec.factory} exited with ${code}`));
    });
  });
}

const reps = Number(flags.reps);
const requests = Number(flags.requests);
const concurrency = Number(flags.concurrency);
const upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name, { errorRate: 1 })));
const rows = new Map(CLIENTS.map((c) => [c.id, []]));
try {
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < CLIENTS.length; i++) {
      const client = CLIENTS[(i + rep) % CLIENTS.length];
      await Promise.all(upstreams.map((u) => u.stats())); // resets the counters
      const outcome = await runChild({
        factory: client.factory,
        targets: upstreams.map((u) => u.url),
        requests,
        concurrency,
      });
      const served = (await Promise.all(upstreams.map((u) => u.stats()))).reduce(
        (sum, s) => sum + s.served,
        0,
      );
      rows.get(client.id).push({ ...outcome, served });
      process.stderr.write(
        `rep ${rep} ${client.id}: ${(served / requests).toFixed(2)} upstream requests per request\n`,
      );
    }
  }
} finally {
  await Promise.all(upstreams.map((u) => u.stop()));
}

console.log(
  `Offered ${requests} requests per run, ${concurrency} in flight, ${reps} runs per client; every upstream answers 503.\n`,
);
console.log('| client | upstream requests per offered request (median, min–max) | offered req/s (median) |');
console.log('|---|---|---|');
for (const client of CLIENTS) {
  const runs = rows.get(client.id);
  const amp = runs.map((r) => r.served / requests);
  console.log(
    `| ${client.label} | ${median(amp).toFixed(2)} (${Math.min(...amp).toFixed(2)}–${Math.max(...amp).toFixed(2)}) | ${Math.round(median(runs.map((r) => requests / r.seconds)))} |`,
  );
}
