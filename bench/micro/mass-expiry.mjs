// How late 10,000 requests that share one deadline settle (issue 11: "no request outlives its
// deadline by > 10 ms"). In this process only, undici's `Client.prototype.dispatch` takes each
// request onto a connection (`onConnect`) and never answers, as an endpoint that accepts and
// hangs does (each endpoint's 128 connections hold one each; the rest wait in the mesh's queue); the network is out of the picture, so what is measured is the mesh's own work of
// failing every call at once: the wheel's expiry, the errors, the rejections through the layers.
// A plain `setTimeout` of the same length, set with the calls, shows how late timers run at all.
//   npm run build && node bench/micro/mass-expiry.mjs [--calls=10000] [--timeout=300] [--rounds=5]
import { parseArgs } from 'node:util';
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';
import { Client } from 'undici';
import { median } from '../lib/aggregate.mjs';
import { startUpstream } from '../lib/processes.mjs';

const at = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000' },
    timeout: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '5' },
    real: { type: 'boolean', default: false },
  },
});
const calls = Number(values.calls);
const timeout = Number(values.timeout);

const noop = () => {};
const upstreams = values.real
  ? await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name, { latencyMs: 600_000 })))
  : [];
if (!values.real) {
  // Each request holds its connection until it is aborted, as on a socket that never answers.
  Client.prototype.dispatch = function hang(_options, handler) {
    let aborted = false;
    handler.onConnect((err) => {
      if (aborted) return;
      aborted = true;
      queueMicrotask(() => handler.onError(err));
    });
    return true;
  };
}
const targets = values.real
  ? upstreams.map((u) => `127.0.0.1:${u.port}`)
  : ['127.0.0.1:9', '127.0.0.1:10', '127.0.0.1:11'];

// A hanging socket would keep the process alive; the stub holds none (the deadline wheel's timer is unref'd).
const keepAlive = setInterval(noop, 1000);

// A new mesh each round: the circuit breaker opens after a round of 10,000 failures.
const meshFor = () =>
  Mesh.builder()
    .service('hung', (s) => s.discovery(staticEndpoints(targets)))
    .build();

const codes = new Map();

async function round() {
  const mesh = meshFor();
  const lateness = new Array(calls);
  let timerLate = 0;
  const started = performance.now();
  const timer = new Promise((resolve) =>
    setTimeout(() => {
      timerLate = performance.now() - started - timeout;
      resolve();
    }, timeout),
  );
  const pending = [];
  for (let i = 0; i < calls; i++) {
    const sent = performance.now();
    pending.push(
      mesh.request({ service: 'hung', method: 'POST', path: '/hang', body: 'x', timeout }).then(
        () => {
          throw new Error('a hanging endpoint answered');
        },
        (err) => {
          lateness[i] = performance.now() - sent - timeout;
          codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
        },
      ),
    );
  }
  const issueMs = performance.now() - started;
  await Promise.all(pending);
  await timer;
  await mesh.close();
  let connections = 0;
  for (const upstream of upstreams) connections += (await upstream.stats()).connections;
  const sorted = lateness.sort((a, b) => a - b);
  return { p50: at(sorted, 50), p99: at(sorted, 99), max: sorted.at(-1), timerLate, connections, issueMs };
}

const rows = [];
for (let r = 0; r < Number(values.rounds); r++) rows.push(await round());
clearInterval(keepAlive);
await Promise.all(upstreams.map((u) => u.stop()));
const m = (key) => median(rows.map((row) => row[key])).toFixed(1);
console.log(
  `Node ${process.version}; ${calls} calls, timeout ${timeout} ms, median of ${rows.length} rounds: ` +
    `lateness p50 ${m('p50')} ms, p99 ${m('p99')} ms, max ${m('max')} ms; a plain timer ${m('timerLate')} ms late; ` +
    `issued in ${m('issueMs')} ms; ${m('connections')} connections accepted by the upstreams per round; ` +
    `errors: ${[...codes].map(([code, n]) => `${code} ${n}`).join(', ')}`,
);
