import { setTimeout as sleep } from 'node:timers/promises';
import { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { withHeader } from '../core/headers.js';
import type { MeshResponse, Service } from '../core/layer.js';
import { headerValue } from './header-value.js';
import { compileRegex, type RuleRegex } from './rule-limits.js';
import type { RouteRule, ServiceRoutes, StringMatch } from './rules.js';
import { type SplitRandom, threshold } from './split-random.js';

/** Finds the stack for a backend name, or undefined when the mesh has no such service. */
export type BackendLookup = (name: string) => Service | undefined;

/** The header a mirrored copy carries, so the receiver can tell shadow traffic apart. */
export const MIRROR_HEADER = 'x-trellis-mirror';
const DEFAULT_MIRROR_TIMEOUT_MS = 10_000;

const EXACT = 0;
const PREFIX = 1;
const REGEX = 2;
const PRESENT = 3;
const ABSENT = 4;

/** A string condition in a form that tests without allocating. */
interface Matcher {
  readonly kind: number;
  readonly value: string;
  readonly regex: RuleRegex | undefined;
}

interface HeaderMatcher extends Matcher {
  readonly name: string;
}

function matcher(match: StringMatch, bare: number): Matcher {
  if (typeof match === 'string') return { kind: bare, value: match, regex: undefined };
  if (match.exact !== undefined) return { kind: EXACT, value: match.exact, regex: undefined };
  if (match.prefix !== undefined) return { kind: PREFIX, value: match.prefix, regex: undefined };
  if (match.regex !== undefined) return { kind: REGEX, value: match.regex, regex: compileRegex(match.regex) };
  return { kind: match.present ? PRESENT : ABSENT, value: '', regex: undefined };
}

function test(m: Matcher, value: string | undefined, isPath: boolean): boolean {
  if (m.kind === PRESENT) return value !== undefined;
  if (m.kind === ABSENT || value === undefined) return m.kind === ABSENT && value === undefined;
  if (m.kind === PREFIX) return value.startsWith(m.value);
  if (m.kind === REGEX) return m.regex!.test(value);
  if (!isPath) return value === m.value;
  // A path's exact match ignores the query string.
  return (
    value.startsWith(m.value) && (value.length === m.value.length || value.charCodeAt(m.value.length) === 63)
  );
}

function discard(response: MeshResponse): Promise<void> {
  return response.body.dump().catch(ignore);
}

function ignore(): void {}

/** One route, ready to test and dispatch on the request path. */
class CompiledRoute {
  readonly name: string;
  readonly #method: string | undefined;
  readonly #path: Matcher | undefined;
  readonly #headers: readonly HeaderMatcher[];
  readonly #targets: readonly Service[];
  /** Draw thresholds of the running weight totals, so a pick is one draw and a short scan. */
  readonly #cumulative: Int32Array;
  readonly #mirror: Service | undefined;
  readonly #mirrorShare: number;
  readonly #mirrorTimeoutMs: number;
  readonly #delayShare: number;
  readonly #delayMs: number;
  readonly #abortShare: number;
  readonly #random: SplitRandom;

  constructor(rule: RouteRule, index: number, lookup: BackendLookup, random: SplitRandom) {
    this.name = rule.name ?? `routes[${index}]`;
    this.#method = rule.match?.method;
    this.#path = rule.match?.path === undefined ? undefined : matcher(rule.match.path, PREFIX);
    this.#headers = Object.entries(rule.match?.headers ?? {}).map(([name, m]) => ({
      ...matcher(m, EXACT),
      name: name.toLowerCase(),
    }));
    const split = rule.split ?? [{ backend: rule.backend!, weight: 1 }];
    this.#targets = split.map((b) => lookup(b.backend)!);
    const total = split.reduce((sum, b) => sum + b.weight, 0);
    this.#cumulative = new Int32Array(split.length);
    let running = 0;
    split.forEach((b, i) => {
      running += b.weight;
      this.#cumulative[i] = threshold(running / total);
    });
    this.#mirror = rule.mirror === undefined ? undefined : lookup(rule.mirror.backend);
    this.#mirrorShare = threshold((rule.mirror?.percent ?? 0) / 100);
    this.#mirrorTimeoutMs = rule.mirror?.timeoutMs ?? DEFAULT_MIRROR_TIMEOUT_MS;
    this.#delayShare = threshold((rule.fault?.delay?.percent ?? 0) / 100);
    this.#delayMs = rule.fault?.delay?.ms ?? 0;
    this.#abortShare = threshold((rule.fault?.abort?.percent ?? 0) / 100);
    this.#random = random;
  }

  matches(ctx: RequestContext): boolean {
    if (this.#method !== undefined && ctx.method !== this.#method) return false;
    if (this.#path !== undefined && !test(this.#path, ctx.path, true)) return false;
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i++) {
      if (!test(headers[i]!, headerValue(ctx.headers, headers[i]!.name), false)) return false;
    }
    return true;
  }

  /** The backend for one request, by weight. */
  pick(): Service {
    const targets = this.#targets;
    if (targets.length === 1) return targets[0]!;
    const r = this.#random.next();
    const cumulative = this.#cumulative;
    for (let i = 0; i < targets.length - 1; i++) if (r < cumulative[i]!) return targets[i]!;
    return targets[targets.length - 1]!;
  }

  dispatch(ctx: RequestContext): Promise<MeshResponse> {
    if (this.#abortShare > 0 && this.#random.next() < this.#abortShare) {
      return Promise.reject(
        new TrellisError(
          ErrorCode.FaultInjected,
          `Route '${this.name}' of '${ctx.service}' failed this request on purpose (fault injection, abort). ` +
            'Remove or lower fault.abort in the routing rules to stop it.',
          { details: { service: ctx.service, route: this.name } },
        ),
      );
    }
    if (this.#delayShare > 0 && this.#random.next() < this.#delayShare) return this.#delayed(ctx);
    return this.#send(ctx);
  }

  async #delayed(ctx: RequestContext): Promise<MeshResponse> {
    const signal = ctx.signal instanceof AbortSignal ? ctx.signal : undefined;
    try {
      await sleep(this.#delayMs, undefined, signal === undefined ? undefined : { signal });
    } catch (err) {
      throw new TrellisError(
        ErrorCode.Aborted,
        `${ctx.method} ${ctx.service}${ctx.path} was aborted by the caller during an injected delay.`,
        { cause: err, details: { service: ctx.service, route: this.name } },
      );
    }
    return this.#send(ctx);
  }

  #send(ctx: RequestContext): Promise<MeshResponse> {
    if (this.#mirror === undefined || this.#random.next() >= this.#mirrorShare) return this.pick()(ctx);
    // Copy before the primary call: layers below may replace ctx.headers or other fields.
    const copy = mirrorCopy(ctx, this.#mirrorTimeoutMs);
    const response = this.pick()(ctx);
    if (copy !== undefined) {
      try {
        this.#mirror(copy).then(discard, ignore);
      } catch {
        // A mirror never affects the caller, even when its stack throws synchronously.
      }
    }
    return response;
  }
}

/**
 * A copy of the request for the mirror, or undefined when its body cannot be sent twice (a
 * stream is read once, and buffering it would hold the caller's data in memory).
 */
function mirrorCopy(ctx: RequestContext, timeoutMs: number): RequestContext | undefined {
  const body = ctx.body;
  if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array)) return undefined;
  const copy = new RequestContext({
    service: ctx.service,
    method: ctx.method,
    path: ctx.path,
    headers: withHeader(ctx.headers, MIRROR_HEADER, '1'),
    body,
    timeout: timeoutMs,
    idempotent: ctx.idempotent,
  });
  copy.headersTimeout = timeoutMs;
  copy.bodyTimeout = timeoutMs;
  return copy;
}

/** A service's routes, ready for the request path. */
export class CompiledRoutes {
  readonly #routes: readonly CompiledRoute[];
  readonly #fallback: Service;

  /**
   * @param rules - validated routes
   * @param lookup - finds backends (must know every backend the rules name; see {@link unknownBackends})
   * @param fallback - where requests no route matches go (the service's own stack below routing)
   * @param random - draws for splits, mirrors and faults
   */
  constructor(rules: ServiceRoutes, lookup: BackendLookup, fallback: Service, random: SplitRandom) {
    this.#routes = rules.routes.map((rule, i) => new CompiledRoute(rule, i, lookup, random));
    this.#fallback = fallback;
  }

  /** Routes one request. */
  handle(ctx: RequestContext): Promise<MeshResponse> {
    const routes = this.#routes;
    for (let i = 0; i < routes.length; i++) if (routes[i]!.matches(ctx)) return routes[i]!.dispatch(ctx);
    return this.#fallback(ctx);
  }
}

/**
 * Backends (split, single or mirror) that `lookup` does not know, and mirrors that would copy
 * requests back into the service itself (`own` is what `lookup` returns for it), as problems.
 */
export function unknownBackends(
  service: string,
  rules: ServiceRoutes,
  lookup: BackendLookup,
  own: Service,
): string[] {
  const problems: string[] = [];
  rules.routes.forEach((rule, i) => {
    const names = [...(rule.split?.map((b) => b.backend) ?? []), rule.backend, rule.mirror?.backend];
    for (const name of names) {
      if (name !== undefined && lookup(name) === undefined) {
        problems.push(
          `services.${service}.routes[${i}]: backend '${name}' is not a service of this mesh; ` +
            `add it with .service('${name}', ...) or fix the name`,
        );
      }
    }
  });
  if (rules.routes.some((rule) => rule.mirror !== undefined && lookup(rule.mirror.backend) === own)) {
    problems.push(`services.${service}: a service cannot mirror to itself; mirror to another service`);
  }
  return problems;
}
