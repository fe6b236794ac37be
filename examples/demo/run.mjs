// The trellis demo: `npm run demo`, or after a build `node examples/demo/run.mjs --help`.
// Starts four upstream processes (profiles.mjs), sends load through a mesh while a live view
// shows each endpoint's traffic, state and latency estimate, and plays a story (story.mjs): an
// upstream slows down, one is killed, discovery adds a new one. Then it prints a summary and
// stops every process it started.
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { Mesh } from 'trellis';
import {
  aperture,
  healthLayer,
  p2cLeastLoaded,
  p2cPeakEwma,
  random,
  roundRobin,
  weighted,
} from 'trellis/balancers';
import { metrics } from 'trellis/telemetry';
import { liveEndpoints } from './discovery.mjs';
import { legend } from './legend.mjs';
import { startLoad } from './load.mjs';
import { startUpstream, stopAll } from './processes.mjs';
import { CAST } from './profiles.mjs';
import { Stats } from './stats.mjs';
import { STORY } from './story.mjs';
import { summary } from './summary.mjs';
import { createView } from './view.mjs';

/** The balancers that need nothing more than a name to pick from (ringHash needs a key). */
const BALANCERS = new Map(
  Object.entries({ p2cPeakEwma, p2cLeastLoaded, roundRobin, random, weighted, aperture }),
);
const USAGE = `usage: npm run demo -- [--seconds 20] [--concurrency 8] [--balancer p2cPeakEwma]
  --seconds      length of the run (>= 3); the story's events come at 20%, 40%
                 and 60% of it
  --concurrency  callers, each sending its next request when its last one ends
  --balancer     ${[...BALANCERS.keys()].join(' ')}
Colour on a terminal unless NO_COLOR is set.`;

function usageError(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      seconds: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '8' },
      balancer: { type: 'string', default: 'p2cPeakEwma' },
    },
  }));
} catch (err) {
  usageError(err.message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const balancer = BALANCERS.get(values.balancer);
if (!(seconds >= 3)) usageError(`--seconds must be a number >= 3, got ${values.seconds}`);
if (!(Number.isInteger(concurrency) && concurrency > 0))
  usageError(`--concurrency must be a whole number > 0`);
if (balancer === undefined) usageError(`unknown balancer ${values.balancer}`);

const SERVICE = 'demo';
const REFRESH_MS = process.stdout.isTTY ? 250 : 2000;

// Ctrl-C or a kill still stops the upstreams.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => stopAll().finally(() => process.exit(130)));

let mesh;
let refresh;
const timers = [];
try {
  const upstreams = new Map();
  const names = new Map();
  const start = async (name, profile) => {
    const upstream = await startUpstream(name, profile);
    upstreams.set(name, upstream);
    names.set(upstream.address, name);
    return upstream;
  };
  await Promise.all(Object.entries(CAST).map(([name, profile]) => start(name, profile)));
  const discovery = liveEndpoints([...upstreams.values()].map((u) => u.address));
  const stats = new Stats();
  mesh = Mesh.builder()
    .stack(metrics({ registry: new Registry() }).install)
    .service(SERVICE, (s) =>
      s
        .discovery(discovery.resolver)
        .balancer(balancer())
        // Quicker than production defaults, so ejections and returns show within seconds.
        .layer(healthLayer({ consecutiveFailures: 3, baseEjectionMs: 2_000, slowStartMs: 3_000 }))
        .stack((stack) => stack.insertAfter('balance', stats.layer())),
    )
    .build();

  const view = createView(process.stdout, names);
  view.legend(legend(seconds, STORY, { concurrency, balancer: values.balancer }));
  const name = (id) => names.get(id) ?? id;
  mesh.on('endpointEjected', (_service, id, reason, durationMs) => {
    stats.of(id).ejections++;
    view.event(
      stats.elapsedS(),
      'ejected',
      `${name(id)} ejected (${reason}) for ${(durationMs / 1000).toFixed(1)} s`,
    );
  });
  mesh.on('endpointReturned', (_service, id) => {
    stats.of(id).returns++;
    view.event(stats.elapsedS(), 'returned', `${name(id)} probed back into rotation, warming up`);
  });

  const load = startLoad(mesh, { service: SERVICE, concurrency, until: performance.now() + seconds * 1000 });
  const cast = { upstreams, start, publish: discovery.publish };
  for (const event of STORY) {
    const play = async () => {
      stats.beginPhase(event.phase);
      view.event(stats.elapsedS(), 'story', await event.run(cast));
    };
    timers.push(
      setTimeout(
        () => play().catch((err) => view.event(stats.elapsedS(), 'ejected', err.message)),
        event.at * seconds * 1000,
      ),
    );
  }
  refresh = setInterval(
    () => view.update(stats.elapsedS(), load.counts, mesh.snapshot(SERVICE), stats.takeInterval()),
    REFRESH_MS,
  );
  await load.done;
  clearInterval(refresh);
  process.stdout.write(`${summary(stats, load.counts, names, STORY).join('\n')}\n`);
} finally {
  clearInterval(refresh);
  for (const timer of timers) clearTimeout(timer);
  await mesh?.close();
  await stopAll();
}
