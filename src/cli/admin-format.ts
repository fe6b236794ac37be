import type { ServicesView } from '../admin/services-view.js';
import type { RequestCompletion } from '../telemetry/completion-feed.js';

/** Every line the admin commands print fits this many columns. */
export const WIDTH = 80;

/** Cuts `text` to `width` columns, marking the cut with `~`. */
export function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}~`;
}

function ms(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(1);
}

function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${(value * 100).toFixed(1)}%`;
}

/** Columns of fixed widths, the first left-aligned and cut to fit, the others right-aligned. */
function table(widths: number[], rows: string[][]): string[] {
  return rows.map((cells) =>
    clip(
      cells
        .map((cell, i) =>
          i === 0 ? clip(cell, widths[0]!).padEnd(widths[0]!) : clip(cell, widths[i]!).padStart(widths[i]!),
        )
        .join(' '),
      WIDTH,
    ).trimEnd(),
  );
}

/** `trellis stat`: golden signals per service and route over the last 10 s. */
export function formatStat(view: ServicesView): string {
  if (!view.metrics) return 'The mesh has no metrics layer: add metrics({ registry }).install to its stack.';
  const rows = [['SERVICE / ROUTE', 'SUCCESS', 'RPS', 'P50 MS', 'P99 MS', 'IN FLIGHT']];
  for (const s of view.services) {
    const g = s.golden;
    rows.push([
      s.name,
      pct(g?.successRate),
      (g?.rps ?? 0).toFixed(1),
      ms(g?.p50Ms),
      ms(g?.p99Ms),
      String(s.inflight ?? '-'),
    ]);
    for (const r of s.routes)
      if (r.route !== '')
        rows.push([`  ${r.route}`, pct(r.successRate), r.rps.toFixed(1), ms(r.p50Ms), ms(r.p99Ms), '']);
  }
  return table([35, 8, 8, 8, 8, 9], rows).join('\n');
}

/** The service's retry budget, body errors and routing rules version, where it has them. */
function serviceExtras(s: ServicesView['services'][number]): string {
  const parts: string[] = [];
  if (s.retryBudget !== null)
    parts.push(`retry budget ${Math.floor(s.retryBudget.left)}/${Math.floor(s.retryBudget.capacity)}`);
  if (s.bodyErrors !== null) parts.push(`body errors ${s.bodyErrors}`);
  if (s.rules !== null) parts.push(`rules v${s.rules.version} (${s.rules.source})`);
  return parts.join('  ');
}

/** `trellis top`: every service's endpoints, live. */
export function formatTop(view: ServicesView): string {
  const lines: string[] = [clip(`trellis top  ${view.generatedAt}`, WIDTH)];
  for (const s of view.services) {
    const g = s.golden;
    lines.push(
      '',
      clip(
        `${s.name}  success ${pct(g?.successRate)}  ${(g?.rps ?? 0).toFixed(1)} req/s  p99 ${ms(g?.p99Ms)} ms  ` +
          `breaker ${s.breaker ?? '-'}  ${s.discovery.source}`,
        WIDTH,
      ),
    );
    const extras = serviceExtras(s);
    if (extras !== '') lines.push(clip(`  ${extras}`, WIDTH));
    const rows = [['ENDPOINT', 'STATE', 'EST MS', 'IN FLIGHT', 'WEIGHT', 'ZONE', 'REQS', 'FAILS']];
    for (const e of s.endpoints)
      rows.push([
        e.id,
        e.state,
        ms(e.latencyMs),
        String(e.inflight),
        String(e.weight),
        e.zone ?? '-',
        String(e.requests ?? '-'),
        String(e.failures ?? '-'),
      ]);
    lines.push(...table([21, 8, 8, 9, 6, 8, 7, 6], rows));
  }
  return lines.join('\n');
}

/** A call's outcome: its status, its error code, or both when the body failed after the headers. */
function outcome(call: RequestCompletion): string {
  if (call.status === undefined) return call.error ?? '?';
  return call.error === undefined ? String(call.status) : `${call.status} ${call.error}`;
}

/** `trellis tap`: one finished call per line; the path gets the room left, the endpoint only if some remains. */
export function formatTapLine(call: RequestCompletion): string {
  const time = new Date(call.at).toISOString().slice(11, 23);
  const head = `${time} ${clip(call.service, 20)} ${call.method} `;
  const tail = ` -> ${outcome(call)} ${ms(call.latencyMs)}ms${call.attempts > 1 ? ` x${call.attempts}` : ''}`;
  const path = clip(call.path, Math.max(WIDTH - head.length - tail.length, 12));
  const line = `${head}${path}${tail}`;
  const endpoint = call.endpoint ? ` @${call.endpoint}` : '';
  return clip(line.length + endpoint.length <= WIDTH ? line + endpoint : line, WIDTH);
}
