import type { HeaderBag } from '../core/headers.js';

/** `a` equals `lower` ignoring ASCII case, where `lower` is already lower case; allocates nothing. */
function equalsLower(a: string, lower: string): boolean {
  if (a.length !== lower.length) return false;
  for (let i = 0; i < a.length; i++) {
    let c = a.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * One request header by its lower-case name, from either header form, like `getHeader` but
 * without lower-casing strings on every call: route matching runs on every request and must
 * not allocate. Several values are joined with ', '.
 */
export function headerValue(headers: HeaderBag, lowerName: string): string | undefined {
  if (headers == null) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (equalsLower(headers[i]!, lowerName)) return headers[i + 1];
    }
    return undefined;
  }
  let value = headers[lowerName];
  if (value === undefined) {
    for (const key in headers) {
      if (equalsLower(key, lowerName)) {
        value = headers[key];
        break;
      }
    }
  }
  return Array.isArray(value) ? value.join(', ') : value;
}
