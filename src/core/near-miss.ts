/**
 * True when `a` and `b` differ by at most one typo: one character inserted, deleted or replaced, or
 * two neighbours swapped (`retires` for `retries`).
 */
export function editDistanceAtMost1(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    const rest = a.slice(i + 2) === b.slice(i + 2);
    return (rest && a[i] === b[i + 1] && a[i + 1] === b[i]) || a.slice(i + 1) === b.slice(i + 1);
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** The first of `candidates` one edit away from `name` (and not equal to it), if any. */
export function nearMiss(name: string, candidates: Iterable<string>): string | undefined {
  for (const candidate of candidates) {
    if (candidate !== name && editDistanceAtMost1(candidate, name)) return candidate;
  }
  return undefined;
}
