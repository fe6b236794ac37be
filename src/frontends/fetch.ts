import { type Dispatcher, type Response, Request as UndiciRequest, fetch as undiciFetch } from 'undici';

/** The input `fetch` accepts: a URL string, a `URL`, or a `Request` (undici's or Node's own). */
export type FetchInput = string | URL | RequestLike;

/** Any `Request` object, whichever copy of undici made it. */
export interface RequestLike {
  /** The request URL. */
  readonly url: string;
}
/** The init object `fetch` accepts. */
export type FetchInit = Parameters<typeof undiciFetch>[1];
/** A function with the shape of `fetch`. */
export type FetchLike = (input: FetchInput, init?: FetchInit) => Promise<Response>;

/** The URL of any fetch input, as a string. */
export function urlOf(input: FetchInput): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/**
 * Node's built-in `fetch` has its own copy of undici, whose `Request` objects undici's `fetch` does
 * not recognise. Rebuild such a request as an undici one with every field a `Request` carries, so
 * the request means what it did (an `integrity` is still checked, a `cache: 'no-store'` still sends
 * `cache-control: no-cache`, and undici's `fetch` sees the same referrer, mode and credentials).
 */
function asUndiciInput(input: FetchInput): string | URL | UndiciRequest {
  if (typeof input === 'string' || input instanceof URL || input instanceof UndiciRequest) return input;
  const foreign = input as unknown as globalThis.Request;
  return new UndiciRequest(foreign.url, {
    method: foreign.method,
    headers: [...foreign.headers],
    body: foreign.body as ReadableStream | null,
    signal: foreign.signal,
    redirect: foreign.redirect,
    integrity: foreign.integrity,
    cache: foreign.cache,
    referrer: foreign.referrer,
    referrerPolicy: foreign.referrerPolicy,
    keepalive: foreign.keepalive,
    mode: foreign.mode,
    credentials: foreign.credentials,
    // A built-in Request with a body is always half-duplex (the only mode fetch supports).
    duplex: 'half',
  } as ConstructorParameters<typeof UndiciRequest>[1]);
}

/**
 * WHATWG `fetch` on a given dispatcher: redirects, decompression, `Request` objects and
 * `AbortSignal` behave exactly as in undici's `fetch`.
 */
export function fetchVia(dispatcher: Dispatcher, input: FetchInput, init?: FetchInit): Promise<Response> {
  return undiciFetch(asUndiciInput(input), init === undefined ? { dispatcher } : { ...init, dispatcher });
}

/**
 * A `fetch` that sends requests for mesh hosts through `meshFetch` and everything else through
 * `fallback`, untouched.
 */
export function routeFetch(
  isMeshUrl: (url: string) => boolean,
  meshFetch: FetchLike,
  fallback: FetchLike,
): FetchLike {
  return (input, init) => (isMeshUrl(urlOf(input)) ? meshFetch(input, init) : fallback(input, init));
}
