import type { IncomingHttpHeaders } from 'node:http';

/**
 * Request headers as the mesh carries them: a plain object (lower-case names preferred), or the
 * flat `[name, value, name, value, ...]` array that undici's dispatcher API and `fetch` use.
 */
export type HeaderBag =
  | IncomingHttpHeaders
  | Record<string, string | string[] | undefined>
  | string[]
  | null
  | undefined;

/** Reads one header (case-insensitive) from either header form; arrays are joined with ', '. */
export function getHeader(headers: HeaderBag, name: string): string | undefined {
  if (headers == null) return undefined;
  const wanted = name.toLowerCase();
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (headers[i]!.toLowerCase() === wanted) return headers[i + 1];
    }
    return undefined;
  }
  let value = headers[wanted];
  if (value === undefined) {
    for (const key in headers) {
      if (key.toLowerCase() === wanted) {
        value = headers[key];
        break;
      }
    }
  }
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Returns a copy of `headers` with `name` set to `value`, replacing any existing value of any
 * case. The caller's object is never mutated, because callers often reuse header objects.
 */
export function withHeader(headers: HeaderBag, name: string, value: string): HeaderBag {
  const wanted = name.toLowerCase();
  if (Array.isArray(headers)) {
    const copy: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (headers[i]!.toLowerCase() !== wanted) copy.push(headers[i]!, headers[i + 1]!);
    }
    copy.push(wanted, value);
    return copy;
  }
  const copy: Record<string, string | string[] | undefined> = {};
  if (headers != null) {
    for (const key in headers) {
      if (key.toLowerCase() !== wanted) copy[key] = headers[key];
    }
  }
  copy[wanted] = value;
  return copy;
}
