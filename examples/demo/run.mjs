// The trellis demo: `npm run demo`, or after a build
//   node examples/demo/run.mjs [--seconds 20] [--concurrency 8] [--balancer p2cPeakEwma]
//                              [--upstreams steady,steady,slow,flaky]
// Starts one upstream process per listed profile (profiles.mjs), sends load through a mesh for a
// few seconds while a live view shows each endpoint's requests/s, p50/p99 and state, prints a
// summary, and stops every process it started. --balancer names any factory that
// trellis/balancers exports.
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { Mesh } from 'trellis';
import * as balancers from 'trellis/balancers';
import { healthLayer } from 'trellis/balancers';
import { staticEndpoints } from 'trellis/discovery';
import { metrics } from 'trellis/telemetry';
import { runLoad } from './load.mjs';
import { startUpstream, stopAll } from './processes.mjs';
import { DEMO_UPSTREAMS, PROFILES } from './profiles.mjs';
import { Stats } from './stats.mjs';
import { createView } from './view.mjs';

/** Every balancer factory trellis/balancers exports, by name. */
const BALANCERS = new Map(Object.entries(balancers).filter(([, value]) => typeof value === 'function'));
const USAGE =
  'usage: run.mjs [--seconds 20] [--concurrency 8] [--balancer p2cPeakEwma] [--upstreams steady,steady]\n' +
  `  balancers: ${[...BALANCERS.keys()].join(', ')}\n  profiles: ${Object.keys(PROFILES).join(', ')}`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    seconds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '8' },
    balancer: { type: 'string', default: 'p2cPeakEwma' },
    upstreams: { type: 'string', default: DEMO_UPSTREAMS.join(',') },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const balancer = BALANCERS.get(values.balancer);
const profiles = values.upstreams.split(',').map((name) => PROFILES[name]);
if (
  !(seconds > 0) ||
  !(Number.isInteger(concurrency) && concurrency > 0) ||
  typeof balancer !== 'function' ||
  profiles.some((p) => p === undefined)
) {
  console.error(USAGE);
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
  const upstreams = await Promise.all(profiles.map(startUpstream));
  const labels = new Map(upstreams.map((u) => [u.address, u.profile.name]));
  const stats = new Stats();
  mesh = Mesh.builder()
    .stack(metrics({ registry: new Registry() }).install)
    .service(SERVICE, (s) =>
      s
        .discovery(staticEndpoints(upstreams.map((u) => u.address)))
        .balancer(balancer())
        // Quicker ejection than production defaults so the flaky upstream visibly leaves and
        // returns (through slow start) within a few seconds.
        .layer(healthLayer({ consecutiveFailures: 3, baseEjectionMs: 2_000, slowStartMs: 3_000 }))
        .stack((stack) => stack.insertAfter('balance', stats.layer())),
    )
    .build();

  // The admin endpoint (loopback only): the dashboard, and the tap for `trellis tap`.
  const admin = await mesh.admin({ port: 0 });
  console.log(`dashboard: ${admin.url}   live calls: npx trellis tap ${admin.url} --status 5xx\n`);
  const view = createView(process.stdout, labels);
  view.legend(profiles);
  // Where a dashboard URL (issue 16's admin server) will be printed once the demo serves one.
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
