// Plain-text helpers for the demo's output, which fits an 80-column terminal.

/** The widest line the demo writes. */
export const WIDTH = 80;

/** A latency in ms, or '-' when there is none. */
export function ms(value) {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(1);
}

/** A share (0 to 1) as a whole percentage. */
export function percent(share) {
  return `${Math.round(share * 100)}%`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matches the colour codes colour.mjs writes
const COLOUR_CODE = /\x1b\[\d+m/g;

/** Cuts a line to the terminal width (as seen: colour codes take no room; a cut line loses them). */
export function clip(line) {
  const plain = line.replace(COLOUR_CODE, '');
  return plain.length <= WIDTH ? line : `${plain.slice(0, WIDTH - 1)}…`;
}

/**
 * Rows under a heading, columns two spaces apart; the first `left` columns are left-aligned,
 * the others (numbers) right-aligned. `paint(row, i, padded)` may colour a padded cell.
 * @param {string[]} columns
 * @param {unknown[][]} rows
 * @returns {string[]}
 */
export function table(columns, rows, { left = 1, paint = (_row, _i, cell) => cell } = {}) {
  const widths = columns.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => String(row[i]).length)),
  );
  const pad = (cell, i) => (i < left ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]));
  const line = (cells, row) =>
    cells.map((cell, i) => (row ? paint(row, i, pad(cell, i)) : pad(cell, i))).join('  ');
  return [line(columns), ...rows.map((row) => line(row, row))];
}
