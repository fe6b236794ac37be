// trellis clients for the routing benchmark (issue 5): two services over two upstreams, `bench`
// (first target) and `bench-v2` (second), with routing rules set in code. Built from dist/.
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';
import { rulesSource } from 'trellis/routing';

/** Rules that split `bench` between itself and `bench-v2` at `v2Percent`. */
function split(v2Percent) {
  return {
    services: {
      bench: {
        routes: [
          {
            split: [
              { backend: 'bench', weight: 100 - v2Percent },
              { backend: 'bench-v2', weight: v2Percent },
            ],
          },
        ],
      },
    },
  };
}

function routedMesh(targets, connections, rules) {
  const [v1, v2] = targets.map((url) => new URL(url).host);
  return Mesh.builder()
    .rules(rules)
    .service('bench', (s) => s.discovery(staticEndpoints([v1])).transport({ connections }))
    .service('bench-v2', (s) => s.discovery(staticEndpoints([v2])).transport({ connections }))
    .build();
}

function client(mesh, path, onClose = () => {}) {
  return {
    async request() {
      const { statusCode, body } = await mesh.request({ service: 'bench', path });
      await body.text();
      return statusCode;
    },
    async close() {
      onClose();
      await mesh.close();
    },
  };
}

/** A fixed 90/10 split: the cost of one split decision per request. */
export async function meshSplit({ targets, path, concurrency, options }) {
  return client(routedMesh(targets, options.connections ?? concurrency, rulesSource(split(10))), path);
}

/** A 10% mirror to `bench-v2` on top of the default route: the caller-side cost of mirroring. */
export async function meshMirror({ targets, path, concurrency, options }) {
  const rules = rulesSource({
    services: { bench: { routes: [{ backend: 'bench', mirror: { backend: 'bench-v2', percent: 10 } }] } },
  });
  return client(routedMesh(targets, options.connections ?? concurrency, rules), path);
}

/**
 * The split changed every `options.everyMs` (default 100 ms) throughout the run, cycling a canary
 * rollout 1% -> 10% -> 50% -> 100% -> 0%, each change validated and compiled as a whole like an
 * update from a file or etcd. Reports on stderr how long each change took to apply.
 */
export async function meshRuleChanges({ targets, path, concurrency, options }) {
  const rules = rulesSource(split(0));
  const mesh = routedMesh(targets, options.connections ?? concurrency, rules);
  const steps = [1, 10, 50, 100, 0];
  const applyMicros = [];
  let step = 0;
  const timer = setInterval(() => {
    const started = performance.now();
    rules.set(split(steps[step++ % steps.length]));
    applyMicros.push((performance.now() - started) * 1000);
  }, options.everyMs ?? 100);
  return client(mesh, path, () => {
    clearInterval(timer);
    applyMicros.sort((a, b) => a - b);
    const median = applyMicros[Math.floor(applyMicros.length / 2)] ?? 0;
    process.stderr.write(
      `rule changes: ${applyMicros.length} applied, median ${median.toFixed(1)} µs, max ${(applyMicros.at(-1) ?? 0).toFixed(1)} µs each\n`,
    );
  });
}
