import { ErrorCode, TrellisError } from '../core/errors.js';
import { nearMiss } from '../core/near-miss.js';

/** The keys `mesh.request()` accepts (see `RequestContextInit`); `hasUnknownKey` spells them out for speed. */
const KNOWN_KEYS = [
  'service',
  'method',
  'path',
  'headers',
  'body',
  'signal',
  'deadline',
  'timeout',
  'idempotent',
  'route',
];

/** Methods every caller writes this way; anything else gets the slower, complete check. */
const COMMON_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
]);

/** An HTTP method is a token (RFC 9110, section 5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * `performance.now()` counts from process start; a value past this (about 31 years of uptime) is
 * a wall-clock time such as `Date.now() + 100`.
 */
const WALL_CLOCK_MS = 1e12;

/**
 * Checks the options of one `mesh.request()` call before anything is sent, and throws
 * `TRELLIS_INVALID_REQUEST` naming each bad field and what to write instead. A valid call costs a
 * few comparisons and one pass over its keys, with no allocation; the problems are worked out
 * only once something is wrong.
 */
export function checkRequestOptions(options: Readonly<Record<string, unknown>>): void {
  if (options === null || typeof options !== 'object') {
    throw invalid(undefined, ['mesh.request() takes an options object: { service, path, ... }']);
  }
  const { method, path, timeout, deadline, idempotent } = options;
  if (
    typeof options.service !== 'string' ||
    typeof path !== 'string' ||
    path.charCodeAt(0) !== 47 /* / */ ||
    (method !== undefined && !COMMON_METHODS.has(method as string) && !isOtherMethod(method)) ||
    (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0)) ||
    (deadline !== undefined && !(typeof deadline === 'number' && deadline < WALL_CLOCK_MS)) ||
    (idempotent !== undefined && typeof idempotent !== 'boolean') ||
    (options.route !== undefined && typeof options.route !== 'string') ||
    hasUnknownKey(options)
  ) {
    throw invalid(
      typeof options.service === 'string' ? options.service : undefined,
      requestProblems(options),
    );
  }
}

/**
 * Checks the method and path a dispatcher front-end was given for a mesh host (undici's
 * `dispatcher.request({ path, method })` reaches the mesh without undici's own checks).
 */
export function checkDispatchTarget(service: string, method: string, path: string): void {
  if (
    typeof path === 'string' &&
    path.charCodeAt(0) === 47 &&
    (COMMON_METHODS.has(method) || isOtherMethod(method))
  ) {
    return;
  }
  throw invalid(service, [...methodProblems(method), ...pathProblems(path)]);
}

/**
 * Refuses, as undici 7's own `Pool` does, the dispatch options it no longer takes:
 * `throwOnError` (any value) and a non-zero `maxRedirections`, which are interceptors now. Two
 * property reads, and no allocation, for a call that uses neither.
 */
export function checkDispatchOptions(
  service: string,
  options: { readonly throwOnError?: unknown; readonly maxRedirections?: unknown },
): void {
  const redirections = options.maxRedirections;
  const redirects = redirections != null && redirections !== 0;
  if (options.throwOnError == null && !redirects) return; // the common case: nothing to build
  const problems: string[] = [];
  if (options.throwOnError != null) {
    problems.push(
      'throwOnError is not a dispatch option in undici 7 (its Pool refuses it too): compose ' +
        'interceptors.responseError() on the dispatcher, or check statusCode',
    );
  }
  if (redirects) {
    problems.push(
      `maxRedirections ${String(redirections)} is not a dispatch option in undici 7 (its Pool refuses it too): ` +
        'compose interceptors.redirect({ maxRedirections }) on the dispatcher',
    );
  }
  if (problems.length > 0) throw invalid(service, problems);
}

/** A method outside the common set: a token with no lower-case letter. */
function isOtherMethod(method: unknown): boolean {
  return typeof method === 'string' && TOKEN.test(method) && method === method.toUpperCase();
}

function hasUnknownKey(options: Readonly<Record<string, unknown>>): boolean {
  for (const key in options) {
    switch (key) {
      case 'service':
      case 'method':
      case 'path':
      case 'headers':
      case 'body':
      case 'signal':
      case 'deadline':
      case 'timeout':
      case 'idempotent':
      case 'route':
        continue;
      default:
        return true;
    }
  }
  return false;
}

function invalid(service: string | undefined, problems: string[]): TrellisError {
  const where = service === undefined ? 'mesh.request()' : `The request to '${service}'`;
  return new TrellisError(ErrorCode.InvalidRequest, `${where} was not sent: ${problems.join('; ')}.`, {
    details: service === undefined ? { problems } : { problems, service },
  });
}

/** Every problem with the options, each naming the field and what to write instead. */
function requestProblems(options: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const { service, method, path, timeout, deadline, idempotent } = options;
  if (typeof service !== 'string') {
    problems.push(`service must be the logical name of a service (a string), got ${describe(service)}`);
  }
  problems.push(...methodProblems(method ?? 'GET'), ...pathProblems(path));
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0)) {
    problems.push(
      `timeout must be a number of milliseconds > 0 (for example timeout: 2000), got ${describe(timeout)}` +
        (typeof timeout === 'string' && Number(timeout) > 0 ? `: write timeout: ${Number(timeout)}` : ''),
    );
  }
  if (deadline !== undefined) {
    if (typeof deadline !== 'number' || Number.isNaN(deadline)) {
      problems.push(
        `deadline must be a performance.now() time in ms (or Infinity), got ${describe(deadline)}`,
      );
    } else if (deadline >= WALL_CLOCK_MS) {
      problems.push(
        `deadline ${deadline} is on the wall clock (Date.now()); deadlines are on performance.now()'s clock: ` +
          'write deadline: performance.now() + ms, or timeout: ms',
      );
    }
  }
  if (idempotent !== undefined && typeof idempotent !== 'boolean') {
    problems.push(`idempotent must be true or false, got ${describe(idempotent)}`);
  }
  if (options.route !== undefined && typeof options.route !== 'string') {
    problems.push(
      `route must be a route template string (for example 'GET /users/:id'), got ${describe(options.route)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.includes(key)) {
      const near = nearMiss(key, KNOWN_KEYS);
      problems.push(
        `unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ''}; known options: ${KNOWN_KEYS.join(', ')}`,
      );
    }
  }
  return problems;
}

function methodProblems(method: unknown): string[] {
  if (typeof method !== 'string' || !TOKEN.test(method)) {
    return [`method must be an HTTP method such as 'GET' or 'POST', got ${describe(method)}`];
  }
  if (method !== method.toUpperCase()) {
    return [`method '${method}' must be written in upper case: write method: '${method.toUpperCase()}'`];
  }
  return [];
}

function pathProblems(path: unknown): string[] {
  if (typeof path !== 'string') {
    return [`path must be a string starting with '/' (for example path: '/v1/users'), got ${describe(path)}`];
  }
  if (path.charCodeAt(0) === 47) return [];
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    let local = '/';
    try {
      const url = new URL(path);
      local = `${url.pathname}${url.search}`;
    } catch {}
    return [
      `path '${path}' is a URL, and the mesh chooses where a request goes: give the path alone ` +
        `(path: '${local}') and name the service in 'service'`,
    ];
  }
  return [`path '${path}' must start with '/': write path: '/${path}'`];
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}' (a string)`;
  if (typeof value === 'number' || value === null || value === undefined) return String(value);
  return typeof value;
}
