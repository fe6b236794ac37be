// The demo's terminal view. On a TTY it redraws one table in place; otherwise (CI, a pipe) it
// prints one plain line per refresh, so logs stay readable.

// Fits an 80-column terminal: endpoint 15 + profile 6 + state 11 + five numbers, two spaces apart.
const COLUMNS = ['endpoint', 'profile', 'state', 'infl', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'est ms'];

function ms(value) {
  return Number.isNaN(value) ? '-' : value.toFixed(1);
}

function table(columns, rows) {
  const widths = columns.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => String(row[i]).length)),
  );
  const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** One sentence per profile on where the traffic went, from the summary's counts. */
function story(summary, labels) {
  const total = [...summary.values()].reduce((n, s) => n + s.count, 0);
  if (total === 0) return '';
  const byProfile = new Map();
  for (const [id, s] of summary) {
    const name = labels.get(id) ?? '?';
    const acc = byProfile.get(name) ?? { count: 0, errors: 0, endpoints: 0 };
    acc.count += s.count;
    acc.errors += s.errors;
    acc.endpoints++;
    byProfile.set(name, acc);
  }
  const fair = 100 / summary.size;
  const lines = [...byProfile].map(
    ([name, acc]) =>
      `  ${name}: ${((100 * acc.count) / total / acc.endpoints).toFixed(1)}% of requests per endpoint ` +
      `(an even split is ${fair.toFixed(1)}%), ${acc.errors} errors`,
  );
  return `What happened:\n${lines.join('\n')}\n`;
}

/**
 * @param {{ isTTY?: boolean, write(text: string): unknown }} out
 * @param {Map<string, string>} labels endpoint id -> upstream label
 */
export function createView(out, labels) {
  let drawnLines = 0;
  return {
    /**
     * Says what each profile in the run means, before the first frame.
     * @param {import('./profiles.mjs').UpstreamProfile[]} profiles
     */
    legend(profiles) {
      const seen = new Map(profiles.map((p) => [p.name, p]));
      const lines = [...seen.values()].map(
        (p) =>
          `  ${p.name.padEnd(7)} answers in ${p.latencyMs}-${p.latencyMs + p.jitterMs} ms` +
          (p.errorRate > 0 ? `, ${Math.round(p.errorRate * 100)}% of answers are 503s` : ''),
      );
      out.write(
        `Upstream profiles:\n${lines.join('\n')}\n` +
          "est ms is the balancer's latency estimate (traffic moves away as it rises).\n" +
          'An ejected endpoint gets no traffic until it is probed back, then warms up.\n\n',
      );
    },

    /**
     * @param {number} elapsedS
     * @param {import('trellis').EndpointSnapshot[]} snapshot
     * @param {Map<string, { rps: number, p50: number, p99: number, errors: number }>} figures
     */
    update(elapsedS, snapshot, figures) {
      const rows = [...snapshot]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((ep) => {
          const f = figures.get(ep.id);
          return [
            ep.id,
            labels.get(ep.id) ?? '?',
            ep.state,
            ep.inflight,
            f ? f.rps.toFixed(0) : 0,
            f ? ms(f.p50) : '-',
            f ? ms(f.p99) : '-',
            f ? f.errors : 0,
            // The balancer's latency estimate (P2C peak EWMA keeps one; others show '-').
            ep.latencyMs === undefined ? '-' : ms(ep.latencyMs),
          ];
        });
      if (out.isTTY) {
        const text = `trellis demo, ${elapsedS.toFixed(1)} s\n${table(COLUMNS, rows)}\n`;
        // Move up over the previous frame and clear it before drawing the new one.
        if (drawnLines > 0) out.write(`\x1b[${drawnLines}A\x1b[0J`);
        out.write(text);
        drawnLines = text.split('\n').length - 1;
      } else {
        const parts = rows.map(
          (r) => `${r[1].split(' ')[0]}@${r[0]} ${r[2]} ${r[4]} req/s p50 ${r[5]} p99 ${r[6]} ms ${r[7]} err`,
        );
        out.write(`[${elapsedS.toFixed(1)} s] ${parts.join(' | ')}\n`);
      }
    },

    /**
     * @param {Map<string, { count: number, rps: number, p50: number, p99: number, errors: number }>} summary
     * @param {{ ok: number, failed: number, errors: Map<string, number> }} load
     * @param {number} seconds
     */
    summary(summary, load, seconds) {
      const rows = [...summary]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, s]) => [
          id,
          labels.get(id) ?? '?',
          'done',
          s.count,
          s.rps.toFixed(0),
          ms(s.p50),
          ms(s.p99),
          s.errors,
        ]);
      // The summary has no live columns: requests replaces inflight, and there is no estimate.
      const columns = COLUMNS.slice(0, -1).map((c) => (c === 'infl' ? 'requests' : c));
      const errors = [...load.errors].map(([code, n]) => `${code} x${n}`).join(', ');
      out.write(
        `\nSummary after ${seconds.toFixed(1)} s: ${load.ok} ok, ${load.failed} failed` +
          `${errors ? ` (${errors})` : ''}, ${((load.ok + load.failed) / seconds).toFixed(0)} req/s overall\n` +
          `${table(columns, rows)}\n${story(summary, labels)}`,
      );
    },
  };
}
