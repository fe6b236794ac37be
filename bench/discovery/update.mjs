// Benchmark: a discovery update of 10,000 endpoints while the mesh is under load.
//   npm run build && node bench/discovery/update.mjs [--reps=3] [--duration=6] [--endpoints=10000]
// Starts two upstream processes (bench/lib/upstream.mjs), then runs client processes
// (update-client.mjs) alternating 'baseline' (no updates) and 'update' (a 10k-endpoint update
// every second) for --reps repetitions, and prints the medians as a markdown table.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startUpstream } from '../lib/processes.mjs';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    duration: { type: 'string', default: '6' },
    endpoints: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '32' },
  },
});
const CLIENT = new URL('./update-client.mjs', import.meta.url).pathname;

function runClient(spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => process.kill(child.pid, 'SIGKILL'), (spec.durationSeconds + 30) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop();
      if (code === 0 && last?.startsWith('{')) resolve(JSON.parse(last));
      else reject(new Error(`client exited with ${code}: ${out}`));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)];
};

const upstreams = await Promise.all([startUpstream('a'), startUpstream('b')]);
const rows = [];
try {
  for (let rep = 0; rep < Number(values.reps); rep++) {
    const order = rep % 2 === 0 ? ['baseline', 'update'] : ['update', 'baseline'];
    for (const mode of order) {
      const row = await runClient({
        targets: upstreams.map((u) => u.url),
        mode,
        endpoints: Number(values.endpoints),
        concurrency: Number(values.concurrency),
        durationSeconds: Number(values.duration),
        updateEverySeconds: 1,
        windowMs: 250,
      });
      rows.push(row);
      process.stderr.write(`rep ${rep + 1} ${mode}: ${JSON.stringify(row)}\n`);
    }
  }
} finally {
  await Promise.all(upstreams.map((u) => u.stop()));
}

const ms = (us) => (us / 1000).toFixed(2);
const lines = [
  '| run | req/s | p50 all | p99 all | p50 ≤250 ms after update | p99 ≤250 ms after update | max ≤250 ms after | event-loop delay max | publish (validate) | apply (to `endpoints` event) | errors |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const mode of ['baseline', 'update']) {
  const r = rows.filter((x) => x.mode === mode);
  const m = (f) => median(r.map(f));
  const pub = r.flatMap((x) => x.publishMs);
  const app = r.flatMap((x) => x.applyMs);
  lines.push(
    `| ${mode === 'update' ? `${values.endpoints}-endpoint update every 1 s` : 'no updates'} | ${m((x) => x.reqPerSec).toFixed(0)} | ${ms(m((x) => x.all.p50))} ms | ${ms(m((x) => x.all.p99))} ms | ${ms(m((x) => x.window.p50))} ms | ${ms(m((x) => x.window.p99))} ms | ${ms(m((x) => x.window.max))} ms | ${m((x) => x.loopDelayMaxMs).toFixed(1)} ms | ${pub.length ? `${median(pub).toFixed(1)} ms` : '–'} | ${app.length ? `${median(app).toFixed(1)} ms (max ${Math.max(...app).toFixed(1)})` : '–'} | ${r.reduce((s, x) => s + x.errors, 0)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
