/** True when `a` and `b` differ by at most one insertion, deletion or substitution (a likely typo). */
export function editDistanceAtMost1(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1);
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** The first of `candidates` one edit away from `name` (and not equal to it), if any. */
export function nearMiss(name: string, candidates: Iterable<string>): string | undefined {
  for (const candidate of candidates) {
    if (candidate !== name && editDistanceAtMost1(candidate, name)) return candidate;
  }
  return undefined;
}
