// Colour for the demo's output: only on a terminal, and never when NO_COLOR is set
// (https://no-color.org). Each helper wraps text already padded, so colour never shifts columns.

const CODES = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, cyan: 36 };

/**
 * @param {{ isTTY?: boolean }} out
 * @returns {Record<keyof typeof CODES, (text: string) => string>}
 */
export function palette(out, env = process.env) {
  const on = out.isTTY === true && !env.NO_COLOR;
  return Object.fromEntries(
    Object.entries(CODES).map(([name, code]) => [
      name,
      on ? (text) => `\x1b[${code}m${text}\x1b[0m` : String,
    ]),
  );
}

/** The colour of an endpoint state in the view and the event log. */
export function stateColour(colours, state) {
  if (state === 'active') return colours.green;
  if (state === 'ejected' || state === 'killed') return colours.red;
  return colours.yellow;
}
