import type { Endpoint } from '../discovery/endpoint.js';
import { EndpointSetView } from '../discovery/endpoint-set-view.js';
import { UpdateGuard } from '../discovery/update-guard.js';
import { type ResolverFlags, resolverFromFlags } from './resolver-flags.js';

/** How long `endpoints` waits for the resolver's first answer. */
const FIRST_ANSWER_TIMEOUT_MS = 5000;

/** Resolver messages written for a running mesh; a one-shot listing has no "last good set". */
const LAST_GOOD_SET = /The last good set stays in (?:use|force)(?:[^.;]*)(?:\.\s*|;\s*(\w))/g;

/** Connection errors whose bare code ("connect ECONNREFUSED ...") says nothing about what to do. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function errorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && UNREACHABLE.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** The error a one-shot `endpoints` ends with: names the source, and says what to check when it is unreachable. */
function oneShotError(description: string, err: Error): Error {
  const message = err.message
    .replace(LAST_GOOD_SET, (_all, next: string | undefined) => (next ? next.toUpperCase() : ''))
    .trim();
  const code = errorCode(err);
  // Errors that already say what to check (etcd's, DNS's "the name does not exist ... Check the
  // name") are not repeated, nor is a name that does not exist called unreachable.
  if (code && !/\bCheck\b/.test(message)) {
    return new Error(
      `${description} is unreachable (${code}: ${message}); check that it is running and the address is right`,
    );
  }
  return new Error(`${description}: ${message}`);
}

/** Options of the `endpoints` command. */
export interface EndpointsOptions extends ResolverFlags {
  watch?: boolean | undefined;
  json?: boolean | undefined;
}

function format(endpoints: readonly Endpoint[], json: boolean): string {
  if (json) return JSON.stringify(endpoints, null, 2);
  if (endpoints.length === 0) return '(no endpoints)';
  const rows = endpoints.map((ep) => [
    ep.id,
    String(ep.weight),
    ep.zone ?? '-',
    Object.entries(ep.metadata)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-',
  ]);
  const header = ['ENDPOINT', 'WEIGHT', 'ZONE', 'METADATA'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Runs a resolver the way the mesh would and prints what it publishes: once (the first answer)
 * or, with `watch`, every update until `stop` resolves.
 */
export async function endpointsCommand(
  service: string,
  options: EndpointsOptions,
  print: (text: string) => void,
  stop: Promise<void>,
): Promise<void> {
  const resolver = resolverFromFlags(options);
  const problems = resolver.validate?.() ?? [];
  if (problems.length > 0) throw new Error(`${resolver.description}: ${problems.join('; ')}`);
  let settle!: (err?: Error) => void;
  const first = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  // Validated as the mesh does, but printed at once: no debounce, no hold on an empty set.
  const view = new EndpointSetView(
    (current) => {
      print(format(current.endpoints(), options.json ?? false));
      settle();
    },
    (err) => {
      if (options.watch) print(`error: ${err.message}`);
      else settle(oneShotError(resolver.description, err));
    },
  );
  const guard = new UpdateGuard(view, service, {
    ...resolver.updatePolicy,
    debounceMs: 0,
    emptySetGraceMs: 0,
  });
  const subscription = resolver.resolve(guard, service);
  const timer = setTimeout(
    () =>
      settle(
        new Error(
          `${resolver.description} published nothing for '${service}' within ${FIRST_ANSWER_TIMEOUT_MS} ms`,
        ),
      ),
    FIRST_ANSWER_TIMEOUT_MS,
  );
  try {
    await first;
    clearTimeout(timer);
    if (options.watch) {
      // Some resolvers (static, an unref'd file watcher) keep nothing alive; without this the
      // process would end with exit code 13 ("unsettled top-level await") after the first table.
      const keepAlive = setInterval(() => {}, 2 ** 31 - 1);
      await stop.finally(() => clearInterval(keepAlive));
    }
  } finally {
    clearTimeout(timer);
    await subscription.close();
    guard.close();
  }
}
