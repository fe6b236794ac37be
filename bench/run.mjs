// Benchmark entry point. `npm run bench` builds dist/ and runs the issue-2 hot-path scenario.
//   node bench/run.mjs [--scenario=hot-path] [--reps=3] [--duration=5] [--warmup=2] [--quick]
//                      [--only=id,id] [--concurrency=64] [--max=N] [--cpu-prof] [--list]
//                      [--node=<node binary the clients run with; this one by default>]
//                      [--pin  (clients and sidecars on CPU 0, upstreams on CPU 1: bench/README.md)]
//                      [--shared-upstreams  (all upstreams in one process, each on its own port)]
//   node bench/run.mjs --aggregate=bench/results/<file>.jsonl     (re-print a table from raw rows)
// Raw rows go to bench/results/<scenario>-node<major>-<time>.jsonl and the table to the matching .md.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadRange, markdownTable, summarize } from './lib/aggregate.mjs';
import { pinProcesses } from './lib/processes.mjs';
import { loadScenarios } from './lib/registry.mjs';
import { runScenario } from './lib/runner.mjs';

const { values: flags } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'hot-path' },
    reps: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    max: { type: 'string', default: '10000000' },
    only: { type: 'string' },
    concurrency: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    aggregate: { type: 'string' },
    node: { type: 'string' },
    pin: { type: 'boolean', default: false },
    'shared-upstreams': { type: 'boolean', default: false },
  },
});
const log = (line) => process.stderr.write(`${line}\n`);
const number = (text, name) => {
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`--${name} must be a positive number, got '${text}'`);
  return n;
};

const scenarios = await loadScenarios();
if (flags.list) {
  for (const s of scenarios.values())
    log(`${s.name.padEnd(20)} ${s.title} [${s.clients.map((c) => c.id).join(', ')}]`);
  process.exit(0);
}
const scenario = scenarios.get(flags.scenario);
if (!scenario)
  throw new Error(`no scenario '${flags.scenario}'; --list shows them: ${[...scenarios.keys()].join(', ')}`);

if (flags.aggregate) {
  const rows = readFileSync(flags.aggregate, 'utf8').trim().split('\n').map(JSON.parse);
  process.stdout.write(markdownTable(scenario, summarize(scenario, rows)));
  process.exit(0);
}

const quick = flags.quick;
const only = flags.only ? new Set(flags.only.split(',')) : undefined;
for (const id of only ?? []) {
  if (!scenario.clients.some((c) => c.id === id))
    throw new Error(`--only: '${scenario.name}' has no client '${id}'`);
}
/** The version a Node binary reports, or a clear error when it cannot run. */
function nodeVersion(binary) {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (err) {
    throw new Error(`--node=${binary} does not run (${err.message}); give the path of a node binary`);
  }
}
if (flags.pin) {
  if (os.cpus().length < 2)
    throw new Error('--pin needs two CPUs: one for the client, one for the upstreams');
  pinProcesses({ client: '0', upstream: '1' });
}
const clientNode = flags.node ?? process.execPath;
const clientVersion = flags.node ? nodeVersion(flags.node) : process.version;
const resultsDir = new URL('./results/', import.meta.url).pathname;
mkdirSync(`${resultsDir}prof`, { recursive: true });
const settings = {
  reps: flags.reps ? number(flags.reps, 'reps') : quick ? 1 : 3,
  durationSeconds: flags.duration ? number(flags.duration, 'duration') : quick ? 2 : 5,
  warmupSeconds: flags.warmup ? number(flags.warmup, 'warmup') : quick ? 1 : 2,
  maxRequests: number(flags.max, 'max'),
  concurrency: flags.concurrency ? number(flags.concurrency, 'concurrency') : undefined,
  only,
  cpuProfDir: flags['cpu-prof'] ? `${resultsDir}prof` : undefined,
  node: clientNode,
  sharedUpstreams: flags['shared-upstreams'],
  log,
};

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const raw = `${resultsDir}${scenario.name}-node${clientVersion.replace(/^v(\d+).*/, '$1')}-${stamp}.jsonl`;
const nodes =
  clientVersion === process.version
    ? `Node ${process.version}`
    : `clients on Node ${clientVersion} (${clientNode}), upstreams on Node ${process.version}`;
const environment =
  `${nodes}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()})` +
  `${flags.pin ? ', pinned: client and sidecar on CPU 0, upstreams on CPU 1' : ''}` +
  `${flags['shared-upstreams'] ? ', all upstreams in one process' : ''}, ` +
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at start, ${new Date().toISOString()}`;
log(`${scenario.title}\n${environment}`);
log(
  `${settings.reps} reps x ${scenario.clients.filter((c) => !only || only.has(c.id)).length} clients, ` +
    `${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s each, raw rows: ${raw}`,
);
const rows = [];
await runScenario(scenario, settings, (row) => {
  rows.push(row);
  appendFileSync(raw, `${JSON.stringify(row)}\n`);
  log(
    `rep ${row.rep} ${row.id.padEnd(16)} ${String(Math.round(row.rps)).padStart(6)} req/s ` +
      `p50 ${(row.p50_us / 1000).toFixed(2)} ms p99 ${(row.p99_us / 1000).toFixed(2)} ms ` +
      `cpu ${row.cpu_us_per_req} µs/req load ${row.loadavg[0]} errors ${row.errors}` +
      `${row.last_error ? ` (${row.last_error})` : ''}`,
  );
});
const table = markdownTable(scenario, summarize(scenario, rows));
const command = `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
const loads = loadRange(rows);
const report =
  `### ${scenario.title}\n\n${environment}; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end` +
  `${loads ? `; 1-minute load average ${loads[0].toFixed(2)}–${loads[1].toFixed(2)} as runs started` : ''}.\n` +
  `Command: \`${command}\` (${settings.reps} interleaved runs per client, ${settings.warmupSeconds} s warm-up + ` +
  `${settings.durationSeconds} s measured, ${settings.concurrency ?? scenario.concurrency} requests in flight).\n\n${table}`;
writeFileSync(raw.replace(/\.jsonl$/, '.md'), report);
process.stdout.write(report);
