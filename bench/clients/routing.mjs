// trellis clients for the routing benchmark (issue 5): two services over two upstreams, `bench`
// (first target) and `bench-v2` (second), with routing rules set in code. Built from dist/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';
import { rulesSource } from 'trellis/routing';

const RESULTS = new URL('../results/', import.meta.url);

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
 * rollout 1% -> 10% -> 50% -> 100% -> 0% (or `options.steps`, e.g. `[10]` to re-apply the same
 * split and see the cost of the update alone, without traffic moving between pools), each change validated and compiled as a whole like an
 * update from a file or etcd. Besides the harness's figures, it compares, within the same
 * process and time, the latency of requests started in the first 5 ms after a change with that
 * of requests started later in the interval (selecting by start time, not by overlap, which
 * would favour long requests), after `options.skipSeconds` (default 2) of warm-up, and writes
 * them with the time each change took to bench/results/rule-change-<pid>.json.
 */
export async function meshRuleChanges({ targets, path, concurrency, options }) {
  const rules = rulesSource(split(0));
  const mesh = routedMesh(targets, options.connections ?? concurrency, rules);
  const steps = options.steps ?? [1, 10, 50, 100, 0];
  const applyMicros = [];
  const justAfter = [];
  const later = [];
  const measureFrom = performance.now() + (options.skipSeconds ?? 2) * 1000;
  let changes = 0;
  let lastChange = Number.NEGATIVE_INFINITY;
  const timer = setInterval(() => {
    const started = performance.now();
    rules.set(split(steps[changes % steps.length]));
    changes++;
    lastChange = performance.now();
    if (started >= measureFrom) applyMicros.push((lastChange - started) * 1000);
  }, options.everyMs ?? 100);
  return {
    async request() {
      const started = performance.now();
      const sinceChange = started - lastChange;
      const { statusCode, body } = await mesh.request({ service: 'bench', path });
      await body.text();
      if (started >= measureFrom) (sinceChange <= 5 ? justAfter : later).push(performance.now() - started);
      return statusCode;
    },
    async close() {
      clearInterval(timer);
      const stats = (xs) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const at = (q) =>
          +(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(3);
        return { n: sorted.length, p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99) };
      };
      const report = {
        changes: applyMicros.length,
        apply_us: stats(applyMicros.map((us) => us / 1000)),
        started_within_5ms_after_a_change: stats(justAfter),
        started_later: stats(later),
      };
      report.apply_us = Object.fromEntries(
        Object.entries(report.apply_us).map(([k, v]) => [
          k.replace('_ms', ''),
          k === 'n' ? v : +(v * 1000).toFixed(1),
        ]),
      );
      mkdirSync(RESULTS, { recursive: true });
      writeFileSync(new URL(`rule-change-${process.pid}.json`, RESULTS), `${JSON.stringify(report)}\n`);
      await mesh.close();
    },
  };
}
