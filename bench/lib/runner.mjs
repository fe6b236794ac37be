// Runs one scenario: starts its upstreams (and sidecars), then runs every client `reps` times, one
// process per run, rotating the order each repetition so no client always runs first or last
// (machine drift and warm caches then spread over all of them). Each run gets fresh upstream
// profiles and counters; the upstreams' served requests and CPU, the CPU of the sidecars the
// client sent through, and the machine's load average are recorded beside the client's figures.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { runClient, startUpstreams } from './processes.mjs';

/** The order of repetition `rep`: the list rotated by rep/reps of its length. */
export function rotation(items, rep, reps) {
  const shift = Math.floor((rep * items.length) / reps);
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/**
 * Runs `scenario` and calls `onResult(row)` after each run; resolves when all runs are done and
 * every upstream and sidecar is stopped. settings: { reps, durationSeconds, warmupSeconds,
 * maxRequests, only, concurrency, cpuProfDir, node, log } (`node`: the Node binary clients run
 * with; upstreams and sidecars always run on this process's).
 */
export async function runScenario(scenario, settings, onResult) {
  const unavailable = new Map();
  for (const sidecar of scenario.sidecars) {
    const reason = sidecar.unavailable();
    if (reason !== undefined) unavailable.set(sidecar.name, reason);
  }
  const clients = scenario.clients.filter((c) => {
    if (settings.only && !settings.only.has(c.id)) return false;
    const missing = (c.upstreams ?? []).find((name) => unavailable.has(name));
    if (missing !== undefined) settings.log(`skipping ${c.id}: ${unavailable.get(missing)}`);
    return missing === undefined;
  });
  if (!clients.some((c) => c.id === scenario.baseline)) {
    settings.log(`note: baseline '${scenario.baseline}' does not run, so no ratios`);
  }
  const needed = new Set(clients.flatMap((c) => c.upstreams ?? []));
  const upstreams = [];
  const sidecars = [];
  try {
    upstreams.push(...(await startUpstreams(scenario.upstreams, { shared: settings.sharedUpstreams })));
    settings.log(`upstreams: ${upstreams.map((u) => `${u.name}=${u.url} (pid ${u.pid})`).join(', ')}`);
    for (const sidecar of scenario.sidecars.filter((s) => needed.has(s.name))) {
      sidecars.push(await sidecar.start(upstreams));
      settings.log(`sidecar: ${sidecar.name}=${sidecars.at(-1).url} (pid ${sidecars.at(-1).pid})`);
    }
    const byName = new Map([...upstreams, ...sidecars].map((u) => [u.name, u]));
    for (let rep = 0; rep < settings.reps; rep++) {
      for (const client of rotation(clients, rep, settings.reps)) {
        const targets = (client.upstreams ?? scenario.upstreams.map((u) => u.name)).map((n) => byName.get(n));
        const through = sidecars.filter((s) => targets.includes(s));
        const row = await measure(scenario, client, targets, upstreams, through, settings, rep);
        row.rep = rep;
        onResult(row);
        await sleep(300); // let closed sockets settle before the next process starts
      }
    }
  } finally {
    await Promise.all([...sidecars, ...upstreams].map((u) => u.stop()));
  }
}

async function measure(scenario, client, targets, upstreams, sidecars, settings, rep) {
  const loadavg = os.loadavg().map((l) => +l.toFixed(2));
  for (const [i, u] of upstreams.entries()) u.setProfile(scenario.upstreams[i].profile);
  await Promise.all(upstreams.map((u) => u.stats())); // resets the counters
  const cpuBefore = upstreams.map((u) => u.cpuMicros());
  const sidecarCpuBefore = sidecars.map((u) => u.cpuMicros());
  const timers = scenario.events.map((event) =>
    setTimeout(
      () => upstreams.find((u) => u.name === event.upstream).setProfile(event.profile),
      event.atSeconds * 1000,
    ),
  );
  let row;
  try {
    row = await runClient(
      {
        client,
        targets: targets.map((t) => t.url),
        path: scenario.path,
        concurrency: settings.concurrency ?? scenario.concurrency,
        warmupSeconds: settings.warmupSeconds,
        durationSeconds: settings.durationSeconds,
        maxRequests: settings.maxRequests,
        cpuProfile: settings.cpuProfDir && `${settings.cpuProfDir}/${client.id}-rep${rep}.cpuprofile`,
      },
      { node: settings.node },
    );
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
  const stats = await Promise.all(upstreams.map((u) => u.stats()));
  // Upstream figures cover the whole run (warm-up included): CPU µs spent, requests served and
  // connections accepted.
  row.upstreams = Object.fromEntries(
    upstreams.map((u, i) => [
      u.name,
      {
        served: stats[i].served,
        byStatus: stats[i].byStatus,
        connections: stats[i].connections,
        cpu_us: Math.round(u.cpuMicros() - cpuBefore[i]),
      },
    ]),
  );
  // Sidecar CPU covers the whole run too; every request they forwarded was this client's.
  row.sidecars = Object.fromEntries(
    sidecars.map((u, i) => [u.name, { cpu_us: Math.round(u.cpuMicros() - sidecarCpuBefore[i]) }]),
  );
  row.loadavg = loadavg; // 1, 5 and 15 minute load averages as the run started
  return row;
}
