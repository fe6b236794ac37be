/**
 * Large discovery updates are worked through in slices of about this many milliseconds, one per
 * turn of the event loop, so that 10 000 endpoints do not hold up the requests in between.
 */
export const SLICE_MS = 1;

/** Items handled between two looks at the clock; a set no larger is always done in one slice. */
export const SLICE_ITEMS = 256;

/**
 * Calls `work(i)` for `i` from `from` up to `count`, until done or until `budgetMs` of wall time
 * has passed (the clock is read every {@link SLICE_ITEMS} items). Returns where the next slice
 * starts: `count` when all is done.
 */
export function workSlice(
  from: number,
  count: number,
  work: (i: number) => void,
  budgetMs = SLICE_MS,
): number {
  const deadline = performance.now() + budgetMs;
  let i = from;
  while (i < count) {
    const end = Math.min(count, i + SLICE_ITEMS);
    for (; i < end; i++) work(i);
    if (i < count && performance.now() >= deadline) break;
  }
  return i;
}
