// The CPU cost of applying one large discovery update, with no traffic (so the figure is the
// update's own work: validation in the update guard, diffing, MeshEndpoint creation, draining of
// removed endpoints, the balancer update and the `endpoints` event):
//   npm run build && node bench/discovery/apply-cost.mjs [--endpoints=10000] [--updates=30]
// Alternates two sets that share half their entries, so every update adds and removes half.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Mesh } from 'trellis';

const { values } = parseArgs({
  options: { endpoints: { type: 'string', default: '10000' }, updates: { type: 'string', default: '30' } },
});
const size = Number(values.endpoints);

let sink;
const driven = {
  description: 'bench-driven',
  updatePolicy: { debounceMs: 0 },
  resolve(s) {
    sink = s;
    return { close() {} };
  },
};
const set = (offset) =>
  Array.from({ length: size }, (_, i) => {
    const n = i + offset;
    return {
      host: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      port: 8080,
      weight: 1 + (n % 3),
      zone: `z${n % 3}`,
    };
  });
const sets = [set(0), set(size / 2)];
const mesh = Mesh.builder()
  .service('big', (s) => s.discovery(driven))
  .build();

let cpuAtPublish;
let wallAtPublish;
let applied;
mesh.on('endpoints', () => {
  const cpu = process.cpuUsage(cpuAtPublish);
  applied({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wallAtPublish });
});

// The update guard's timers are unref'd; keep this otherwise idle process alive while it measures.
const keepAlive = setInterval(() => {}, 1000);
const cpuMs = [];
const wallMs = [];
for (let i = 0; i < Number(values.updates) + 4; i++) {
  const done = new Promise((resolve) => {
    applied = resolve;
  });
  cpuAtPublish = process.cpuUsage();
  wallAtPublish = performance.now();
  sink.update(sets[i % 2]);
  const result = await done;
  if (i >= 4) {
    // the first updates warm up the JIT
    cpuMs.push(result.cpuMs);
    wallMs.push(result.wallMs);
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
}
clearInterval(keepAlive);
await mesh.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(
  `${size} endpoints, ${cpuMs.length} updates: CPU per update median ${median(cpuMs).toFixed(1)} ms ` +
    `(min ${Math.min(...cpuMs).toFixed(1)}, max ${Math.max(...cpuMs).toFixed(1)}); ` +
    `wall median ${median(wallMs).toFixed(1)} ms`,
);
