// One measured run of one client configuration, in its own process:
//   node bench/lib/client.mjs '<spec JSON>'
// spec: { client: { id, label, module, factory, options }, targets: [url...], path, concurrency,
//         warmupSeconds, durationSeconds, maxRequests }
// The client module exports factories `async (setup) => ({ request, close })` where `request()`
// sends one request, consumes the response body and resolves with the status code (see
// bench/clients/). This file keeps `concurrency` requests in flight (closed loop: each finished
// request starts the next), discards the warm-up, then measures for `durationSeconds` (or until
// `maxRequests`) and prints one JSON line: req/s, latency percentiles (µs, every completed request,
// whatever its status), status counts, errors, and client CPU µs per request (process.cpuUsage).
// With `cpuProfile` (a file path) in the spec, V8's sampling profiler covers the measured window
// only (not start-up or warm-up) and writes a .cpuprofile there.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';

const spec = JSON.parse(process.argv[2]);
const { client, targets, path, concurrency, warmupSeconds, durationSeconds, maxRequests, cpuProfile } = spec;

const factories = await import(client.module);
const factory = factories[client.factory];
if (typeof factory !== 'function') {
  throw new Error(`${client.module} exports no client factory named '${client.factory}'`);
}
const { request, close } = await factory({ targets, path, concurrency, options: client.options ?? {} });

const profiler = cpuProfile ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  // 100 µs between samples (V8's default is 1 ms): a few seconds then resolve µs-sized costs.
  await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
}

const histogram = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000,
  numberOfSignificantValueDigits: 3,
});
const statuses = new Map();
let measuring = false;
let stopped = false;
let count = 0;
let errors = 0;
let lastError = null;
let startedAt = 0;
let stoppedAt = 0;
let cpuAtStart;
let cpu;
let profileStopped;

function stop() {
  if (stopped) return;
  stopped = true;
  stoppedAt = performance.now();
  cpu = process.cpuUsage(cpuAtStart);
  profileStopped = profiler?.post('Profiler.stop');
}

async function worker() {
  while (!stopped) {
    const t0 = performance.now();
    let status;
    try {
      status = await request();
    } catch (err) {
      status = 'error';
      if (measuring) errors++;
      lastError = err;
    }
    if (!measuring || stopped) continue;
    histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (++count >= maxRequests) stop();
  }
}

const workers = Array.from({ length: concurrency }, worker);
setTimeout(async () => {
  await profiler?.post('Profiler.start');
  measuring = true;
  cpuAtStart = process.cpuUsage();
  startedAt = performance.now();
  setTimeout(stop, durationSeconds * 1000);
}, warmupSeconds * 1000);
await Promise.all(workers);
if (profiler) writeFileSync(cpuProfile, JSON.stringify((await profileStopped).profile));
await close();

const seconds = (stoppedAt - startedAt) / 1000;
const cpuMicros = cpu.user + cpu.system;
const ok = [...statuses].reduce((sum, [status, n]) => (status >= 200 && status < 400 ? sum + n : sum), 0);
process.stdout.write(
  `${JSON.stringify({
    id: client.id,
    label: client.label,
    node: process.version,
    concurrency,
    count,
    ok,
    errors,
    statuses: Object.fromEntries(statuses),
    seconds: +seconds.toFixed(3),
    rps: +(count / seconds).toFixed(1),
    p50_us: histogram.getValueAtPercentile(50),
    p90_us: histogram.getValueAtPercentile(90),
    p99_us: histogram.getValueAtPercentile(99),
    p999_us: histogram.getValueAtPercentile(99.9),
    max_us: histogram.maxValue,
    cpu_us_per_req: +(cpuMicros / count).toFixed(2),
    cpu_pct: +(cpuMicros / 1e4 / seconds).toFixed(1),
    last_error: lastError ? String(lastError.message ?? lastError) : null,
  })}\n`,
);
process.exit(0);
