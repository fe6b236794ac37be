// The trellis demo: `npm run demo` (or `node examples/demo/run.mjs --seconds 10` after a build).
// Starts a few upstream processes (profiles.mjs), sends load through a mesh for a few seconds
// while a live view shows each endpoint's requests/s, p50/p99 and state, prints a summary, and
// stops every process it started.
import { parseArgs } from 'node:util';
import { Mesh } from 'trellis';
import { roundRobin } from 'trellis/balancers';
import { staticEndpoints } from 'trellis/discovery';
import { runLoad } from './load.mjs';
import { startUpstream, stopAll } from './processes.mjs';
import { DEMO_UPSTREAMS } from './profiles.mjs';
import { Stats } from './stats.mjs';
import { createView } from './view.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
if (!(seconds > 0) || !(Number.isInteger(concurrency) && concurrency > 0)) {
  console.error('usage: run.mjs [--seconds 5] [--concurrency 8]');
  process.exit(2);
}

const SERVICE = 'demo';
const REFRESH_MS = process.stdout.isTTY ? 250 : 1000;

// Ctrl-C or a kill still stops the upstreams.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopAll().finally(() => process.exit(130));
  });
}

let mesh;
let refresh;
try {
  const upstreams = await Promise.all(DEMO_UPSTREAMS.map(startUpstream));
  const labels = new Map(upstreams.map((u) => [u.address, `${u.profile.name} (pid ${u.pid})`]));
  const stats = new Stats();
  mesh = Mesh.builder()
    .service(SERVICE, (s) =>
      s
        .discovery(staticEndpoints(upstreams.map((u) => u.address)))
        .balancer(roundRobin())
        .stack((stack) => stack.insertAfter('balance', stats.layer())),
    )
    .build();

  const view = createView(process.stdout, labels);
  const started = performance.now();
  refresh = setInterval(() => {
    view.update((performance.now() - started) / 1000, mesh.snapshot(SERVICE), stats.takeInterval());
  }, REFRESH_MS);
  const load = await runLoad(mesh, { service: SERVICE, concurrency, until: started + seconds * 1000 });
  clearInterval(refresh);
  view.summary(stats.summary(), load, (performance.now() - started) / 1000);
} finally {
  clearInterval(refresh);
  await mesh?.close();
  await stopAll();
}
