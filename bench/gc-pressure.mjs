// Garbage-collection pressure of the production clients, end to end: each client runs as a
// measured run (bench/lib/client.mjs) under `--trace-gc`, pinned to CPU 0, against the three
// upstreams served by one process pinned to CPU 1 (bench/README.md, "Pinned runs"). Prints, per
// client, req/s, client CPU per request, latency percentiles and the scavenges and mark-compacts
// of the measured process (count, total and longest pause, median MB freed per scavenge). A
// request path that makes V8 keep per-request objects longer shows here as fewer, longer
// scavenges and a high p99, as the Node 24 timeout tail did (bench/RESULTS.md, ninth session).
//   npm run build && node bench/gc-pressure.mjs [--node=<binary>] [--duration=5] [--v8=<flags>]
//                                               meshDefault meshTimeout ...
// Clients are factories of bench/clients/production.mjs; `--v8` passes V8 flags to the clients
// (for example --v8=--no-allocation-site-pretenuring).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { median } from './lib/aggregate.mjs';
import { pinProcesses, startUpstreams } from './lib/processes.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    node: { type: 'string', default: process.execPath },
    duration: { type: 'string', default: '5' },
    v8: { type: 'string', default: '' },
  },
});
if (positionals.length === 0) throw new Error('name at least one factory of bench/clients/production.mjs');

const GC_LINE =
  /(Scavenge|Mark-Compact)[^,]*?([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \//;

/** Sums the `--trace-gc` lines of one run. */
function gcSummary(lines) {
  const summary = { scavenges: 0, scavengeMs: 0, longestMs: 0, markCompacts: 0, markCompactMs: 0 };
  const freed = [];
  for (const line of lines) {
    const m = GC_LINE.exec(line);
    if (!m) continue;
    const ms = Number(m[6]);
    if (m[1] === 'Scavenge') {
      summary.scavenges++;
      summary.scavengeMs += ms;
      summary.longestMs = Math.max(summary.longestMs, ms);
      freed.push(Number(m[2]) - Number(m[4]));
    } else {
      summary.markCompacts++;
      summary.markCompactMs += ms;
    }
  }
  return { ...summary, freedMb: freed.length > 0 ? median(freed) : 0 };
}

pinProcesses({ upstream: '1' });
const upstreams = await startUpstreams(
  ['a', 'b', 'c'].map((name) => ({ name })),
  { shared: true },
);
const production = new URL('./clients/production.mjs', import.meta.url).href;
const v8Flags = values.v8.split(' ').filter(Boolean);
console.log(
  `clients on ${spawnSync(values.node, ['--version'], { encoding: 'utf8' }).stdout.trim()}` +
    `${v8Flags.length > 0 ? ` with ${v8Flags.join(' ')}` : ''}, 64 in flight, 2 s warm-up + ${values.duration} s, ` +
    'client pinned to CPU 0, three upstreams in one process on CPU 1',
);
console.log(
  '| client | req/s | CPU µs/req | p50 ms | p99 ms | p99.9 ms | scavenges | scavenge ms (longest) | MB freed/scavenge | mark-compacts (ms) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
try {
  for (const factory of positionals) {
    const spec = {
      client: { id: factory, label: factory, module: production, factory },
      targets: upstreams.map((u) => u.url),
      path: '/',
      concurrency: 64,
      warmupSeconds: 2,
      durationSeconds: Number(values.duration),
      maxRequests: 1e9,
    };
    const run = spawnSync(
      'taskset',
      ['-c', '0', values.node, ...v8Flags, '--trace-gc', 'lib/client.mjs', JSON.stringify(spec)],
      { cwd: new URL('.', import.meta.url).pathname, encoding: 'utf8', maxBuffer: 1e8, timeout: 120_000 },
    );
    const lines = run.stdout.trim().split('\n');
    const last = lines.pop();
    if (run.status !== 0 || !last?.startsWith('{')) throw new Error(`${factory}: ${run.stderr || last}`);
    const r = JSON.parse(last);
    const gc = gcSummary(lines);
    const ms = (us) => (us / 1000).toFixed(2);
    console.log(
      `| ${factory} | ${Math.round(r.rps)} | ${r.cpu_us_per_req} | ${ms(r.p50_us)} | ${ms(r.p99_us)} | ${ms(r.p999_us)} | ` +
        `${gc.scavenges} | ${gc.scavengeMs.toFixed(0)} (${gc.longestMs.toFixed(1)}) | ${gc.freedMb.toFixed(1)} | ` +
        `${gc.markCompacts} (${gc.markCompactMs.toFixed(0)}) |`,
    );
  }
} finally {
  await Promise.all(upstreams.map((u) => u.stop()));
}
