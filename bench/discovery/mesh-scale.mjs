// Many services in one mesh (issue 12): build time, memory, and the cost of a request's pick as
// the number of services grows, with the network taken out (undici's Client.prototype.dispatch
// answers a canned response on the next microtask, as in bench/overhead.mjs; no socket opens).
//   npm run build && node --expose-gc bench/discovery/mesh-scale.mjs [--services=1,10,100,1000] [--endpoints=10] [--requests=200000]
// For each size: a fresh mesh of `services` services with `endpoints` static endpoints each;
// requests go to the services in turn (so every service's stack and balancer is exercised).
import { parseArgs } from 'node:util';
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';
import { cannedDispatch } from '../lib/canned-dispatch.mjs';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1,10,100,1000' },
    endpoints: { type: 'string', default: '10' },
    requests: { type: 'string', default: '200000' },
  },
});
const perService = Number(values.endpoints);
const requests = Number(values.requests);
const CONCURRENCY = 64;

cannedDispatch();

const gc = globalThis.gc ?? (() => {});
if (!globalThis.gc) console.error('run with node --expose-gc for memory figures');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

// "one service": the pick and the service lookup alone; "all in turn": the same, with every
// service's stack and pools cycled through the CPU caches (a working set that grows with the mesh).
const rows = [
  '| services × endpoints | build | heap per service | heap per endpoint | CPU per request, one service | CPU per request, all in turn |',
  '|---|---|---|---|---|---|',
];
for (const services of values.services.split(',').map(Number)) {
  const names = Array.from({ length: services }, (_, i) => `svc-${i}`);
  const before = heap();
  const t0 = performance.now();
  const builder = Mesh.builder();
  names.forEach((name, i) => {
    const eps = Array.from({ length: perService }, (_, j) => `127.${(i >> 8) & 255}.${i & 255}.${j + 1}:9`);
    builder.service(name, (s) => s.discovery(staticEndpoints(eps)));
  });
  const mesh = builder.build();
  const buildMs = performance.now() - t0;
  const used = heap() - before;
  /** CPU µs per request, sending to the services in turn (`all`) or always to the first. */
  const cpuPerRequest = async (all) => {
    let next = 0;
    const worker = async () => {
      for (let i = 0; i < requests / CONCURRENCY; i++) {
        const service = names[next];
        if (all) next = next + 1 === names.length ? 0 : next + 1;
        await mesh.request({ service, path: '/' });
      }
    };
    const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const { user, system } = process.cpuUsage(cpu);
    return (user + system) / requests;
  };
  await cpuPerRequest(true); // warm-up: every endpoint's pool is created on its first pick
  const one = await cpuPerRequest(false);
  const all = await cpuPerRequest(true);
  rows.push(
    `| ${services} × ${perService} | ${buildMs.toFixed(1)} ms | ${(used / services / 1024).toFixed(1)} KB | ` +
      `${Math.round(used / services / perService)} B | ${one.toFixed(2)} µs | ${all.toFixed(2)} µs |`,
  );
  await mesh.close();
}
console.log(
  `Node ${process.version}, ${requests} requests per size, ${CONCURRENCY} in flight\n${rows.join('\n')}`,
);
