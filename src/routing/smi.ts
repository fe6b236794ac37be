import type { RouteTable, ServiceRoutes } from './rules.js';

/**
 * Support for the SMI `TrafficSplit` resource (split.smi-spec.io, v1alpha1 to v1alpha4), so
 * existing manifests work as trellis rules. `spec.service` is the routed service and
 * `spec.backends` its weighted split. `spec.matches` points at `HTTPRouteGroup` resources that
 * trellis does not read, so a split with matches is rejected (write the match as a trellis
 * route instead).
 */

const API_GROUP = 'split.smi-spec.io/';

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTrafficSplit(value: unknown): value is Obj {
  return isObject(value) && value.kind === 'TrafficSplit';
}

/** Whether `value` is a TrafficSplit, a list of them, or a Kubernetes `List` of them. */
export function isTrafficSplitInput(value: unknown): boolean {
  if (isTrafficSplit(value)) return true;
  if (isObject(value) && value.kind === 'List' && Array.isArray(value.items))
    return value.items.some(isTrafficSplit);
  return Array.isArray(value) && value.some(isTrafficSplit);
}

/**
 * Parses an SMI weight: a number, or a Kubernetes quantity string as v1alpha1 used
 * (`"500m"` = 0.5, `"1"` = 1).
 */
function parseWeight(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) / (match[2] === 'm' ? 1000 : 1);
}

function convert(
  resource: Obj,
  where: string,
  problems: string[],
  services: Record<string, ServiceRoutes>,
): void {
  if (typeof resource.apiVersion !== 'string' || !resource.apiVersion.startsWith(API_GROUP)) {
    problems.push(
      `${where}: apiVersion must be ${API_GROUP}<version>, got ${JSON.stringify(resource.apiVersion)}`,
    );
  }
  const spec = resource.spec;
  if (!isObject(spec)) {
    problems.push(`${where}: spec is missing`);
    return;
  }
  if (spec.matches !== undefined) {
    problems.push(
      `${where}: spec.matches refers to HTTPRouteGroup resources, which trellis does not read; ` +
        'express the match as a trellis route ({ match: { headers: ... }, backend: ... })',
    );
  }
  const service = spec.service;
  if (typeof service !== 'string' || service.length === 0) {
    problems.push(`${where}: spec.service must name the routed service`);
    return;
  }
  if (services[service] !== undefined) {
    problems.push(`${where}: a second TrafficSplit for '${service}'; keep one split per service`);
    return;
  }
  if (!Array.isArray(spec.backends) || spec.backends.length === 0) {
    problems.push(`${where}: spec.backends must list at least one { service, weight }`);
    return;
  }
  const split: { backend: unknown; weight: unknown }[] = [];
  spec.backends.forEach((backend: unknown, i: number) => {
    if (!isObject(backend)) {
      problems.push(`${where}: spec.backends[${i}] must be { service, weight }`);
      return;
    }
    const weight = parseWeight(backend.weight);
    if (weight === undefined) {
      problems.push(
        `${where}: spec.backends[${i}].weight must be a number >= 0 or a quantity like "500m", got ${JSON.stringify(backend.weight)}`,
      );
    }
    split.push({ backend: backend.service, weight: weight ?? 0 });
  });
  services[service] = { routes: [{ name: where, split }] } as unknown as ServiceRoutes;
}

/**
 * Converts TrafficSplit resources to a trellis table (then validated like any other). Each
 * split becomes the single route of its `spec.service`, named after the resource.
 */
export function trafficSplitsToTable(value: unknown, problems: string[]): RouteTable {
  const items = Array.isArray(value)
    ? value
    : isObject(value) && value.kind === 'List' && Array.isArray(value.items)
      ? value.items
      : [value];
  const services: Record<string, ServiceRoutes> = {};
  items.forEach((item, i) => {
    const name = isObject(item) && isObject(item.metadata) ? item.metadata.name : undefined;
    const where = `TrafficSplit ${typeof name === 'string' ? `'${name}'` : `#${i + 1}`}`;
    if (!isTrafficSplit(item)) {
      problems.push(`${where}: kind must be TrafficSplit; do not mix other resources into routing rules`);
      return;
    }
    convert(item, where, problems, services);
  });
  return { services };
}
