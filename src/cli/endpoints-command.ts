import type { Endpoint } from '../discovery/endpoint.js';
import { EndpointSetView } from '../discovery/endpoint-set-view.js';
import { UpdateGuard } from '../discovery/update-guard.js';
import { type ResolverFlags, resolverFromFlags } from './resolver-flags.js';

/** How long `endpoints` waits for the resolver's first answer. */
const FIRST_ANSWER_TIMEOUT_MS = 5000;

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
      else settle(err);
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
    if (options.watch) await stop;
  } finally {
    clearTimeout(timer);
    await subscription.close();
    guard.close();
  }
}
