import type { EtcdClient } from '../discovery/etcd/etcd-client.js';
import { parseRules } from '../routing/parse-rules.js';
import type { RouteRule, RouteTable, WeightedBackend } from '../routing/rules.js';
import { readRules, writeRules } from './etcd-rules-store.js';
import { UsageError } from './usage.js';

/** The route that takes what no match takes: the first one without a `match`. */
function catchAllIndex(routes: readonly RouteRule[]): number {
  return routes.findIndex((route) => route.match === undefined);
}

function describeSplit(service: string, table: RouteTable): string {
  const routes = table.services[service]?.routes ?? [];
  const index = catchAllIndex(routes);
  const lines: string[] = [];
  const matched = routes.filter((route) => route.match !== undefined);
  if (index < 0) lines.push(`${service}: no split (requests no route matches go to ${service} itself)`);
  else {
    const route = routes[index]!;
    const split = route.split ?? [{ backend: route.backend!, weight: 1 }];
    const total = split.reduce((sum, b) => sum + b.weight, 0);
    const width = Math.max(7, ...split.map((b) => b.backend.length));
    lines.push(`${'BACKEND'.padEnd(width)}  WEIGHT  SHARE`);
    for (const b of split) {
      const share = `${((100 * b.weight) / total).toFixed(1)}%`;
      lines.push(`${b.backend.padEnd(width)}  ${String(b.weight).padStart(6)}  ${share.padStart(6)}`);
    }
    if (route.mirror) lines.push(`mirror: ${route.mirror.percent}% to ${route.mirror.backend}`);
    if (route.fault) lines.push(`fault: ${JSON.stringify(route.fault)}`);
  }
  if (matched.length > 0)
    lines.push(`(${matched.length} route(s) with matches come first; see 'trellis rules show')`);
  return lines.join('\n');
}

/** Parses `backend=weight` arguments. */
export function parseSplitArgs(args: readonly string[]): WeightedBackend[] {
  if (args.length === 0)
    throw new UsageError('give the split as <backend>=<weight>..., e.g. users=90 users-v2=10');
  return args.map((arg) => {
    const match = /^([^=]+)=(\d+(?:\.\d+)?)$/.exec(arg);
    if (!match) throw new UsageError(`'${arg}' is not <backend>=<weight> (e.g. users-v2=10)`);
    return { backend: match[1]!, weight: Number(match[2]) };
  });
}

/** `trellis split show <service>`. */
export async function splitShow(client: EtcdClient, key: string, service: string): Promise<string> {
  const { table } = await readRules(client, key);
  return describeSplit(service, table);
}

/**
 * `trellis split set <service> a=90 b=10`: replaces the split of the service's catch-all route
 * (keeping its mirror and fault, and every route with a match), or adds one. The whole new
 * document is validated before it is written, and written only if nobody changed it meanwhile.
 */
export async function splitSet(
  client: EtcdClient,
  key: string,
  service: string,
  split: readonly WeightedBackend[],
): Promise<string> {
  const { table, modRevision } = await readRules(client, key);
  const routes = [...(table.services[service]?.routes ?? [])];
  const index = catchAllIndex(routes);
  if (index < 0) routes.push({ name: 'split', split });
  else {
    const { backend: _single, ...rest } = routes[index]!;
    routes[index] = { ...rest, split };
  }
  const next = parseRules(
    { services: { ...table.services, [service]: { routes } } },
    `'trellis split set ${service}'`,
  );
  await writeRules(client, key, next, modRevision);
  return describeSplit(service, next);
}
