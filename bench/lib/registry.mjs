// The scenario registry: every file in bench/scenarios/ default-exports one scenario, so a new
// benchmark is a new file there (plus, usually, a client module in bench/clients/) and needs no
// edit to shared files. A scenario is:
//   name         id for --scenario
//   title        heading of its results table
//   baseline     id of the client every ratio is taken against (measured in the same run)
//   compareTo    optional further client ids to show paired throughput ratios against
//   path         request path ('/' by default)
//   concurrency  requests in flight per client (64 by default)
//   upstreams    [{ name, profile }] upstream processes (see bench/lib/upstream.mjs for profiles)
//   clients      [{ id, label, module, factory, options?, upstreams? }] one process per run;
//                `module` is a file URL (use clientModule()), `upstreams` names the targets (all
//                by default, in order)
//   events       optional [{ atSeconds, upstream, profile }]: profile changes during every run,
//                counted from the client's start (warm-up included)
//   sidecars     optional [{ name, unavailable, start }]: processes between client and upstreams
//                (a proxy); a client reaches one by naming it in `upstreams`. `unavailable()`
//                returns why it cannot run here (its clients are then skipped with that line) or
//                undefined; `start(upstreams)` resolves with { name, pid, url, cpuMicros, stop }
import { readdirSync } from 'node:fs';

const SCENARIOS = new URL('../scenarios/', import.meta.url);

/** The file URL of a client module in bench/clients/, for a scenario's `module` field. */
export function clientModule(file) {
  return new URL(`../clients/${file}`, import.meta.url).href;
}

/** Every registered scenario, by name. */
export async function loadScenarios() {
  const scenarios = new Map();
  for (const file of readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.mjs'))
    .sort()) {
    const { default: scenario } = await import(new URL(file, SCENARIOS).href);
    if (scenarios.has(scenario.name)) throw new Error(`two scenarios are named '${scenario.name}'`);
    const ids = new Set(scenario.clients.map((c) => c.id));
    if (!ids.has(scenario.baseline)) {
      throw new Error(
        `scenario '${scenario.name}': baseline '${scenario.baseline}' is not one of its clients`,
      );
    }
    scenarios.set(scenario.name, { path: '/', concurrency: 64, events: [], sidecars: [], ...scenario, file });
  }
  return scenarios;
}
