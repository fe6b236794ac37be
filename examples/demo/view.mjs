// The demo's live view. On a terminal it redraws one frame in place (the table, then the latest
// events); elsewhere (CI, a pipe) it prints each event as it happens and a table every refresh,
// so logs stay readable. Every line fits 80 columns.
import { palette, stateColour } from './colour.mjs';
import { clip, ms, percent, table } from './text.mjs';

const COLUMNS = ['endpoint', 'name', 'state', 'req/s', 'share', 'p50 ms', 'est ms', '5xx/s'];
const EVENTS_SHOWN = 8;

/** The state column: ejected, draining, active, or `warm NN%` during slow start. */
function stateOf(ep) {
  if (ep.state === 'active' && ep.slowStartFactor !== undefined && ep.slowStartFactor < 1)
    return `warm ${percent(ep.slowStartFactor)}`;
  return ep.state;
}

/**
 * @param {{ isTTY?: boolean, write(text: string): unknown }} out
 * @param {Map<string, string>} names endpoint id -> upstream name
 */
export function createView(out, names) {
  const colours = palette(out);
  const events = [];
  let drawnLines = 0;
  const write = (lines) => out.write(`${lines.map(clip).join('\n')}\n`);
  const paint = (row, i, cell) => (i === 2 ? stateColour(colours, row[2].split(' ')[0])(cell) : cell);

  return {
    /** @param {string[]} lines */
    legend(lines) {
      out.write(`${lines.map((line) => colours.dim(clip(line))).join('\n')}\n`);
    },

    /**
     * Tells something that happened: `kind` picks its colour (story, ejected, returned).
     * @param {number} atS
     * @param {'story' | 'ejected' | 'returned'} kind
     * @param {string} text
     */
    event(atS, kind, text) {
      const colour = kind === 'story' ? colours.cyan : kind === 'ejected' ? colours.red : colours.green;
      const line = colour(clip(`${atS.toFixed(1).padStart(5)} s  ${text}`));
      events.push(line);
      if (events.length > EVENTS_SHOWN) events.shift();
      if (!out.isTTY) out.write(`${line}\n`);
    },

    /**
     * @param {number} elapsedS
     * @param {import('./load.mjs').LoadCounts} counts  the load so far
     * @param {import('trellis').EndpointSnapshot[]} snapshot
     * @param {Map<string, { rps: number, share: number, p50: number, errors: number }>} figures
     */
    update(elapsedS, counts, snapshot, figures) {
      const rows = [...snapshot]
        .sort((a, b) => (names.get(a.id) ?? a.id).localeCompare(names.get(b.id) ?? b.id))
        .map((ep) => {
          const f = figures.get(ep.id);
          return [
            ep.id,
            names.get(ep.id) ?? '?',
            stateOf(ep),
            f ? f.rps.toFixed(0) : 0,
            f ? percent(f.share) : '0%',
            f ? ms(f.p50) : '-',
            ms(ep.latencyMs),
            f ? f.errors.toFixed(0) : 0,
          ];
        });
      const total = counts.ok + counts.failed;
      const ok = total === 0 ? '-' : `${((100 * counts.ok) / total).toFixed(1)}% ok`;
      const heading = colours.bold(`trellis demo  ${elapsedS.toFixed(1)} s  ${total} requests  ${ok}`);
      const frame = [heading, ...table(COLUMNS, rows, { left: 3, paint })];
      if (!out.isTTY) return write([...frame, '']);
      // Move up over the previous frame and clear it before drawing the new one.
      if (drawnLines > 0) out.write(`\x1b[${drawnLines}A\x1b[0J`);
      const lines = [...frame, '', colours.bold('events'), ...events];
      write(lines);
      drawnLines = lines.length;
    },
  };
}
