// Issue 3's "beyond round robin" experiment: runs the balancer scenarios (slow endpoint, latency
// spikes, failing endpoint) on the shared harness and prints one table per scenario with the
// figures the issue asks for: p50 / p99 / p99.9, success rate and the odd endpoint's share, per
// balancer and for undici's BalancedPool. Medians over interleaved runs; p99 ratios are paired
// with the round-robin run of the same repetition.
//   npm run build && node bench/balancers/run.mjs [--reps=3] [--warmup=5] [--duration=8]
//                                                 [--only-scenario=balancers-slow] [--only=mesh-rr,mesh-p2c-ewma-1s]
//   node bench/balancers/run.mjs --from=bench/results/balancers-<time>.jsonl   (the tables again from raw rows)
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { median } from '../lib/aggregate.mjs';
import { loadScenarios } from '../lib/registry.mjs';
import { runScenario } from '../lib/runner.mjs';

const { values: flags } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '5' },
    duration: { type: 'string', default: '8' },
    'only-scenario': { type: 'string' },
    only: { type: 'string' },
    from: { type: 'string' },
  },
});
const NAMES = ['balancers-slow', 'balancers-spikes', 'balancers-errors'];
const log = (line) => process.stderr.write(`${line}\n`);
const resultsDir = new URL('../results/', import.meta.url).pathname;
mkdirSync(resultsDir, { recursive: true });
const raw = `${resultsDir}balancers-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
const scenarios = await loadScenarios();
const settings = {
  reps: Number(flags.reps),
  warmupSeconds: Number(flags.warmup),
  durationSeconds: Number(flags.duration),
  maxRequests: 1e9,
  only: flags.only ? new Set(flags.only.split(',')) : undefined,
  log,
};
const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

const ms = (us) => (us === null ? '–' : (us / 1000).toFixed(1));

/** The markdown table of one scenario's rows. */
function table(scenario, rows) {
  const rr = new Map(rows.filter((r) => r.id === 'mesh-rr').map((r) => [r.rep, r]));
  const lines = [
    `\n#### ${scenario.title}\n`,
    '| client | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | p99 × round robin | success % | errors thrown | share of odd endpoint |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const client of scenario.clients) {
    const runs = rows.filter((r) => r.id === client.id);
    if (runs.length === 0) continue;
    const count = runs.reduce((s, r) => s + r.count, 0);
    const ok = runs.reduce((s, r) => s + r.ok, 0);
    const served = runs.reduce((s, r) => s + Object.values(r.upstreams).reduce((a, u) => a + u.served, 0), 0);
    const odd = runs.reduce((s, r) => s + r.upstreams.odd.served, 0);
    const ratio = median(runs.filter((r) => rr.has(r.rep)).map((r) => r.p99_us / rr.get(r.rep).p99_us));
    const at = (field) => ms(median(runs.map((r) => r[field])));
    lines.push(
      `| ${client.label} | ${Math.round(median(runs.map((r) => r.rps)))} | ${at('p50_us')} | ${at('p90_us')} | ` +
        `${at('p99_us')} | ${at('p999_us')} | ${ratio === null ? '–' : ratio.toFixed(2)} | ` +
        `${((100 * ok) / count).toFixed(3)} | ${runs.reduce((s, r) => s + r.errors, 0)} | ${((100 * odd) / served).toFixed(1)} % |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (flags.from) {
  const rows = readFileSync(flags.from, 'utf8').trim().split('\n').map(JSON.parse);
  for (const name of NAMES) {
    const mine = rows.filter((r) => r.scenario === name);
    if (mine.length > 0) process.stdout.write(table(scenarios.get(name), mine));
  }
  process.exit(0);
}

let output = `Node ${process.version}, ${os.cpus().length} cores, load average ${loadAverage()} at start (shared machine).\n`;
output += `Command: \`node bench/balancers/run.mjs ${process.argv.slice(2).join(' ')}\` (${settings.reps} interleaved runs per client, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s measured). Raw rows: \`${raw}\`.\n`;

for (const name of flags['only-scenario'] ? [flags['only-scenario']] : NAMES) {
  const scenario = scenarios.get(name);
  const rows = [];
  log(`== ${scenario.title}`);
  await runScenario(scenario, settings, (row) => {
    row.scenario = name;
    rows.push(row);
    appendFileSync(raw, `${JSON.stringify(row)}\n`);
    log(
      `rep ${row.rep} ${row.id.padEnd(18)} p99 ${ms(row.p99_us)} ms p99.9 ${ms(row.p999_us)} ms ok ${row.ok}/${row.count}`,
    );
  });
  output += table(scenario, rows);
}
output += `\nLoad average ${loadAverage()} at the end.\n`;
process.stdout.write(output);
