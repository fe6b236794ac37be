/**
 * The lower-case host name of an origin or URL string (`http://users:8080/x` -> `users`),
 * without building a URL object: this runs for every dispatched request.
 */
export function hostOf(origin: string | URL): string {
  if (typeof origin !== 'string') return origin.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const scheme = origin.indexOf('://');
  let start = scheme < 0 ? 0 : scheme + 3;
  const at = origin.indexOf('@', start);
  const slash = origin.indexOf('/', start);
  if (at >= 0 && (slash < 0 || at < slash)) start = at + 1;
  if (origin.charCodeAt(start) === 91 /* [ */) {
    const close = origin.indexOf(']', start);
    return origin.slice(start + 1, close < 0 ? origin.length : close).toLowerCase();
  }
  let end = start;
  while (end < origin.length) {
    const c = origin.charCodeAt(end);
    if (c === 58 /* : */ || c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  return origin.slice(start, end).toLowerCase();
}
