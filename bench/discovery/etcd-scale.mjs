// etcd discovery at fleet scale, against a real etcd on 127.0.0.1 (issue 12):
//   npm run build && node --expose-gc bench/discovery/etcd-scale.mjs --scenario=storm [--count=16000]
//   node --expose-gc bench/discovery/etcd-scale.mjs --scenario=snapshot [--count=100000]
//   node --expose-gc bench/discovery/etcd-scale.mjs --scenario=flap [--seconds=10]
// storm: a writer process registers `count` instances one by one, each under its own key and
//   lease; this process runs a mesh whose service discovers them. Reports CPU per registration
//   in ranges of the set size (flat = work per event independent of the set), the longest
//   event-loop stall, and memory per endpoint.
// snapshot: `count` registrations exist before the mesh starts; reports the time until all are
//   applied, the longest stall and memory per endpoint.
// flap: besides 100 steady keys, one more goes up and down 100 times a second for `seconds`;
//   reports how many applies the mesh made (at most about one per second: debounce 100 ms, at
//   most 1 s), the longest stall and the heap after GC at the start and the end.
// The mesh uses the default update policy (debounce 100 ms, at most 1 s); the writer is another
// process, so the CPU figures are the mesh's own.
import { fork } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Mesh } from 'trellis';
import { EtcdClient, etcdEndpoints } from 'trellis/discovery';
import { startEtcd } from '../lib/etcd.mjs';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'storm' },
    count: { type: 'string' },
    seconds: { type: 'string', default: '10' },
  },
});
const scenario = values.scenario;
const count = Number(values.count ?? (scenario === 'snapshot' ? 100_000 : 16_000));
const PREFIX = '/bench/services/';
const WRITER = new URL('./etcd-writer.mjs', import.meta.url).pathname;

const gc = globalThis.gc ?? (() => {});
if (!globalThis.gc) console.error('run with node --expose-gc for memory figures');
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Runs the writer to the end; `onProgress(done)` every 500 writes. */
function runWriter(spec, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const child = fork(WRITER, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const limit = setTimeout(() => process.kill(child.pid, 'SIGKILL'), 30 * 60_000);
    child.on('message', (msg) => {
      if (msg.type === 'progress') onProgress(msg.done);
    });
    child.on('exit', (code) => {
      clearTimeout(limit);
      if (code === 0) resolve();
      else reject(new Error(`writer exited with ${code}`));
    });
  });
}

// 100,000 registrations with their values fit easily; the default quota is 2 GB anyway.
const etcd = await startEtcd({ quotaBytes: 4 * 2 ** 30 });
const client = new EtcdClient({ endpoints: [etcd.url] });
const applies = []; // { size, at, cpu }
let mesh;
const loop = monitorEventLoopDelay({ resolution: 1 });
const startMesh = () => {
  mesh = Mesh.builder()
    .service('api', (s) => s.discovery(etcdEndpoints({ etcd: client, prefix: PREFIX })))
    .build();
  mesh.on('endpoints', (_service, records) => {
    applies.push({ size: records.length, at: performance.now(), cpu: cpuMs() });
  });
};
const until = async (check, ms) => {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};
const lastSize = () => applies.at(-1)?.size ?? 0;
const stallMs = () => Math.max(0, loop.max / 1e6 - 1).toFixed(1);
const lines = [];

try {
  if (scenario === 'storm') {
    const heapBefore = heapAfterGc();
    startMesh();
    loop.enable();
    const started = performance.now();
    await runWriter({ url: etcd.url, prefix: `${PREFIX}api/`, mode: 'register', count });
    await until(() => lastSize() === count, 30_000);
    loop.disable();
    const seconds = (performance.now() - started) / 1000;
    const perEndpoint = (heapAfterGc() - heapBefore) / count;
    lines.push(
      `storm: ${count} registrations one by one (own key and lease each) in ${seconds.toFixed(1)} s ` +
        `(${Math.round(count / seconds)}/s), ${applies.length} applies`,
      '| set size | mesh CPU per registration |',
      '|---|---|',
    );
    const at = (size) => applies.find((a) => a.size >= size);
    for (let lo = 0; lo < count; lo = lo === 0 ? 1000 : lo * 2) {
      const hi = Math.min(count, lo === 0 ? 1000 : lo * 2);
      const from = lo === 0 ? applies[0] : at(lo);
      const to = at(hi);
      if (from && to && to.size > from.size) {
        lines.push(
          `| ${from.size}–${to.size} | ${(((to.cpu - from.cpu) / (to.size - from.size)) * 1000).toFixed(1)} µs |`,
        );
      }
    }
    lines.push(
      `longest event-loop stall: ${stallMs()} ms; heap per endpoint (after GC): ${Math.round(perEndpoint)} B`,
    );
  } else if (scenario === 'snapshot') {
    await runWriter({ url: etcd.url, prefix: `${PREFIX}api/`, mode: 'preload', count });
    const heapBefore = heapAfterGc();
    const rssBefore = process.memoryUsage().rss;
    const cpuBefore = cpuMs();
    loop.enable();
    const started = performance.now();
    startMesh();
    await until(() => lastSize() === count, 120_000);
    const ms = performance.now() - started;
    const cpu = cpuMs() - cpuBefore;
    await new Promise((r) => setTimeout(r, 200));
    loop.disable();
    const perEndpoint = (heapAfterGc() - heapBefore) / count;
    const rss = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    lines.push(
      `snapshot: ${count} registrations at start applied in ${ms.toFixed(0)} ms (${cpu.toFixed(0)} ms CPU); ` +
        `longest event-loop stall ${stallMs()} ms; heap per endpoint (after GC) ${Math.round(perEndpoint)} B; ` +
        `RSS +${rss.toFixed(0)} MB`,
    );
  } else if (scenario === 'flap') {
    await runWriter({ url: etcd.url, prefix: `${PREFIX}api/`, mode: 'preload', count: 100 });
    startMesh();
    await until(() => lastSize() === 100, 10_000);
    const heaps = [heapAfterGc()];
    const sampler = setInterval(() => heaps.push(heapAfterGc()), 1000);
    const appliesBefore = applies.length;
    loop.enable();
    const seconds = Number(values.seconds);
    await runWriter({
      url: etcd.url,
      prefix: `${PREFIX}api/`,
      mode: 'flap',
      count: 100,
      seconds,
      perSecond: 100,
    });
    loop.disable();
    clearInterval(sampler);
    heaps.push(heapAfterGc());
    const kb = (b) => `${(b / 1024).toFixed(0)} KB`;
    lines.push(
      `flap: a 101st key up and down 100 times a second for ${seconds} s: ${applies.length - appliesBefore} applies; ` +
        `longest event-loop stall ${stallMs()} ms; heap after GC ${kb(heaps[0])} at start, ${kb(heaps.at(-1))} at the end ` +
        `(max ${kb(Math.max(...heaps))})`,
    );
  } else {
    throw new Error(`unknown --scenario=${scenario} (storm, snapshot or flap)`);
  }
} finally {
  await mesh?.close();
  await client.close();
  await etcd.stop();
}
console.log(lines.join('\n'));
