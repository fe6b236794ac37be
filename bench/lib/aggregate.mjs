// Turns the rows of a scenario's runs into one markdown table of medians. Ratios and added CPU are
// paired per repetition (each run against the baseline run of the same repetition) and then the
// median is taken, so slow drift of a shared machine cancels out rather than landing on whichever
// client ran during a busy minute.

/** The median of the finite numbers in `values`, or null when there are none. */
export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** CPU µs all upstreams spent per request they served in one run. */
function upstreamCpuPerRequest(row) {
  const ups = Object.values(row.upstreams ?? {});
  const served = ups.reduce((sum, u) => sum + u.served, 0);
  return served ? ups.reduce((sum, u) => sum + u.cpu_us, 0) / served : null;
}

/** CPU µs the sidecars a run went through spent per request the upstreams served, or null. */
function sidecarCpuPerRequest(row) {
  const sidecars = Object.values(row.sidecars ?? {});
  const served = Object.values(row.upstreams ?? {}).reduce((sum, u) => sum + u.served, 0);
  return sidecars.length && served ? sidecars.reduce((sum, u) => sum + u.cpu_us, 0) / served : null;
}

/** The lowest and highest 1-minute load average at the start of the runs in `rows`, or null. */
export function loadRange(rows) {
  const loads = rows.map((r) => r.loadavg?.[0]).filter((l) => typeof l === 'number');
  return loads.length ? [Math.min(...loads), Math.max(...loads)] : null;
}

/** Each repetition's run of client `id`, by repetition. */
function runsByRep(rows, id) {
  return new Map(rows.filter((r) => r.id === id).map((r) => [r.rep, r]));
}

/** Median over repetitions of `row.rps / reference.rps`, pairing runs of the same repetition. */
function pairedRatio(runs, referenceByRep) {
  return median(runs.map((r) => r.rps / referenceByRep.get(r.rep)?.rps));
}

/** Per-client medians, in the scenario's client order. */
export function summarize(scenario, rows) {
  const baselineByRep = runsByRep(rows, scenario.baseline);
  const references = (scenario.compareTo ?? []).map((id) => [id, runsByRep(rows, id)]);
  const summaries = [];
  for (const client of scenario.clients) {
    const runs = rows.filter((r) => r.id === client.id);
    if (runs.length === 0) continue;
    const paired = runs.map((r) => [r, baselineByRep.get(r.rep)]).filter(([, b]) => b !== undefined);
    const rps = runs.map((r) => r.rps);
    const total = runs.reduce((sum, r) => sum + r.count, 0);
    const served = {};
    for (const r of runs) {
      for (const [name, u] of Object.entries(r.upstreams ?? {}))
        served[name] = (served[name] ?? 0) + u.served;
    }
    const servedTotal = Object.values(served).reduce((a, b) => a + b, 0);
    summaries.push({
      id: client.id,
      label: client.label,
      runs: runs.length,
      rps: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      ratio: pairedRatio(runs, baselineByRep),
      ratios: Object.fromEntries(references.map(([id, byRep]) => [id, pairedRatio(runs, byRep)])),
      p50us: median(runs.map((r) => r.p50_us)),
      p99us: median(runs.map((r) => r.p99_us)),
      cpuUs: median(runs.map((r) => r.cpu_us_per_req)),
      addedCpuUs: median(paired.map(([r, b]) => r.cpu_us_per_req - b.cpu_us_per_req)),
      upstreamCpuUs: median(runs.map(upstreamCpuPerRequest)),
      sidecarCpuUs: median(runs.map(sidecarCpuPerRequest)),
      okPct: total ? (100 * runs.reduce((sum, r) => sum + r.ok, 0)) / total : null,
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      share: Object.fromEntries(
        Object.entries(served).map(([n, s]) => [n, servedTotal ? s / servedTotal : 0]),
      ),
    });
  }
  return summaries;
}

const fixed = (x, digits) => (x === null ? '–' : x.toFixed(digits));
const signed = (x, digits) => (x === null ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`);

/**
 * A markdown table of the summaries; a served-share column appears when there are several
 * upstreams, a sidecar CPU column when the scenario has sidecars.
 */
export function markdownTable(scenario, summaries) {
  const shares = scenario.upstreams.length > 1;
  const sidecars = (scenario.sidecars ?? []).length > 0;
  const head = [
    'client',
    'runs',
    'req/s median (min–max)',
    `× ${scenario.baseline}`,
    ...(scenario.compareTo ?? []).map((id) => `× ${id}`),
    'p50 ms',
    'p99 ms',
    'client CPU µs/req',
    'added CPU µs/req',
    'upstream CPU µs/req',
    ...(sidecars ? ['sidecar CPU µs/req'] : []),
    'ok %',
    'errors',
    ...(shares ? ['served share'] : []),
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const s of summaries) {
    const cells = [
      s.label,
      s.runs,
      `${Math.round(s.rps)} (${Math.round(s.rpsMin)}–${Math.round(s.rpsMax)})`,
      fixed(s.ratio, 2),
      ...(scenario.compareTo ?? []).map((id) => fixed(s.ratios[id], 2)),
      fixed(s.p50us / 1000, 2),
      fixed(s.p99us / 1000, 2),
      fixed(s.cpuUs, 1),
      signed(s.addedCpuUs, 1),
      fixed(s.upstreamCpuUs, 1),
      ...(sidecars ? [fixed(s.sidecarCpuUs, 1)] : []),
      fixed(s.okPct, 1),
      s.errors,
      ...(shares
        ? [
            Object.entries(s.share)
              .map(([n, f]) => `${n} ${(100 * f).toFixed(0)}%`)
              .join(' / '),
          ]
        : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
