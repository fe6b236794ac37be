// The order in which paired clients take their turns within one round of a benchmark.
//
// Reversing the order every other round (A B C, C B A, ...) is fair for two clients only: with
// three or more, the first and last run twice in a row at every turnaround (... C B A | A B C ...)
// and the middle ones never do. Rotating instead (A B C, B C A, C A B, ...) puts every client in
// every place equally often and, with three or more, never runs one twice in a row; with two it
// is the same as reversing. (It does not remove the larger bias of paired clients, which comes
// from the order they were created in: see bench/ab.mjs.)

/** `items` in the order of round `round`: rotated left by `round` places. */
export function turnOrder(items, round) {
  const shift = round % items.length;
  return shift === 0 ? items : [...items.slice(shift), ...items.slice(0, shift)];
}
