// One measured run of the discovery-update benchmark, in its own process:
//   node bench/discovery/update-client.mjs '<spec JSON>'
// spec: { targets: [url...], mode: 'baseline' | 'update', endpoints, concurrency, durationSeconds,
//         updateEverySeconds, windowMs }
// A mesh with two services: `load`, with static discovery of the real upstreams, takes a closed
// loop of `concurrency` requests; `big`, whose resolver is driven from here, receives a full set of
// `endpoints` endpoints every `updateEverySeconds` (alternating two sets that share half their
// entries, so every update adds and removes endpoints), in 'update' mode only. Everything runs on
// one event loop, so the update's cost lands on the `load` requests exactly as it would if the
// loaded service itself were updated, without sending traffic to thousands of fake endpoints.
// Prints one JSON line: latency percentiles (µs) of requests started within `windowMs` after each
// update time (the same instants in baseline mode), of all requests, the event-loop delay max,
// and how long publishing and applying each update took.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';

const spec = JSON.parse(process.argv[2]);
const { targets, mode, endpoints, concurrency, durationSeconds, updateEverySeconds, windowMs } = spec;

let sink;
const driven = {
  description: 'bench-driven',
  updatePolicy: { debounceMs: 0 },
  resolve(s) {
    sink = s;
    return { close() {} };
  },
};

/** `count` endpoints on 10.x.y.z:8080; `offset` shifts the set so two sets share half. */
function bigSet(count, offset) {
  const list = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = i + offset;
    list[i] = {
      host: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      port: 8080,
      weight: 1 + (n % 3),
      zone: `z${n % 3}`,
    };
  }
  return list;
}
const sets = [bigSet(endpoints, 0), bigSet(endpoints, endpoints / 2)];

const mesh = Mesh.builder()
  .service('load', (s) =>
    s.discovery(staticEndpoints(targets.map((u) => new URL(u).host))).transport({ connections: concurrency }),
  )
  .service('big', (s) => s.discovery(driven))
  .build();

const applyTimes = [];
const publishTimes = [];
let publishedAt = 0;
mesh.on('endpoints', (service) => {
  if (service === 'big' && publishedAt > 0) applyTimes.push(performance.now() - publishedAt);
});

const histogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
const all = histogram();
const windowed = histogram();
const loopDelay = monitorEventLoopDelay({ resolution: 1 });

const warmupMs = 1000;
const start = performance.now();
const measureFrom = start + warmupMs;
const measureTo = measureFrom + durationSeconds * 1000;
const updateAt = [];
for (
  let t = measureFrom + updateEverySeconds * 1000;
  t < measureTo - windowMs;
  t += updateEverySeconds * 1000
)
  updateAt.push(t);

let stopped = false;
let errors = 0;
let count = 0;
const inWindow = (t) => updateAt.some((u) => t >= u && t < u + windowMs);

async function worker() {
  while (!stopped) {
    const t0 = performance.now();
    try {
      const { body } = await mesh.request({ service: 'load', path: '/' });
      await body.text();
    } catch {
      if (t0 >= measureFrom) errors++;
    }
    if (t0 < measureFrom || stopped) continue;
    const micros = Math.max(1, Math.round((performance.now() - t0) * 1000));
    all.recordValue(micros);
    if (inWindow(t0)) windowed.recordValue(micros);
    count++;
  }
}

// The first (small) set for `big`, so the first timed update is a real 10k-entry change.
sink.update(sets[1].slice(0, 10));
let next = 0;
const timers = updateAt.map((at) =>
  setTimeout(() => {
    if (mode !== 'update') return;
    const set = sets[next++ % 2];
    publishedAt = performance.now();
    sink.update(set);
    publishTimes.push(performance.now() - publishedAt);
  }, at - performance.now()),
);
setTimeout(() => loopDelay.enable(), measureFrom - performance.now());

const workers = Array.from({ length: concurrency }, worker);
await new Promise((resolve) => setTimeout(resolve, measureTo - performance.now()));
stopped = true;
loopDelay.disable();
for (const t of timers) clearTimeout(t);
await Promise.all(workers);
await mesh.close();

const pct = (h) => ({
  p50: h.getValueAtPercentile(50),
  p99: h.getValueAtPercentile(99),
  max: h.maxValue,
  n: h.totalCount,
});
process.stdout.write(
  `${JSON.stringify({
    mode,
    requests: count,
    reqPerSec: count / durationSeconds,
    errors,
    all: pct(all),
    window: pct(windowed),
    loopDelayMaxMs: loopDelay.max / 1e6,
    updates: applyTimes.length,
    publishMs: publishTimes,
    applyMs: applyTimes,
  })}\n`,
);
