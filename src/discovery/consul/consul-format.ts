import { ErrorCode, TrellisError } from '../../core/errors.js';
import { optionKeys, refuseUnknownOptions } from '../../core/validate.js';
import { type EndpointRecord, parseEndpoint } from '../endpoint.js';

/** How Consul health entries become endpoints (options of `consulEndpoints`). */
export interface ConsulParseOptions {
  /** Service or node meta key holding the zone. Default `'zone'`. */
  zoneMetaKey?: string;
}

const PARSE_KEYS = optionKeys<ConsulParseOptions>({ zoneMetaKey: true });

function bad(why: string, data?: unknown): TrellisError {
  const sample = data === undefined ? '' : ` (${JSON.stringify(data)?.slice(0, 200)})`;
  return new TrellisError(
    ErrorCode.InvalidDiscoveryData,
    `Consul health answer rejected: ${why}${sample}. Expected the /v1/health/service/:service format ` +
      '([{"Node": {...}, "Service": {...}, "Checks": [...]}]). The last good set stays in use.',
  );
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw bad(`${what} is not an object`, value);
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, what: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw bad(`${what} is not a string`, value);
  return value;
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const map = object(value, what);
  for (const v of Object.values(map))
    if (typeof v !== 'string') throw bad(`${what} has a non-string value`, value);
  return map as Record<string, string>;
}

const CHECK_STATUSES = new Set(['passing', 'warning', 'critical', 'maintenance']);

/**
 * Parses a Consul `/v1/health/service/:service` answer into endpoints, keeping only instances
 * whose checks all pass (the query also asks Consul for `passing`, so this is a second guard).
 * The address is the service's own, or its node's when the service has none; the weight is
 * `Weights.Passing` (1 when absent); the zone comes from service or node meta; tags and meta
 * become metadata (`tags` comma-joined, `node`, `datacenter`).
 *
 * @throws `TrellisError` `TRELLIS_INVALID_DISCOVERY_DATA` when any entry is malformed: one bad
 *   entry rejects the whole answer; `TRELLIS_INVALID_CONFIG` for an unknown option.
 */
export function parseConsulHealth(data: unknown, options: ConsulParseOptions = {}): EndpointRecord[] {
  refuseUnknownOptions('parseConsulHealth', options, PARSE_KEYS);
  if (!Array.isArray(data)) throw bad('the body is not a list', data);
  const zoneKey = options.zoneMetaKey ?? 'zone';
  const endpoints: EndpointRecord[] = [];
  for (const raw of data) {
    const entry = object(raw, 'an entry');
    const node = object(entry.Node, 'Node');
    const service = object(entry.Service, 'Service');
    const checks = entry.Checks ?? [];
    if (!Array.isArray(checks)) throw bad('Checks is not a list', checks);
    let passing = true;
    for (const check of checks) {
      const status = object(check, 'a check').Status;
      if (typeof status !== 'string' || !CHECK_STATUSES.has(status))
        throw bad('a check has an unknown Status', check);
      if (status !== 'passing') passing = false;
    }
    if (!passing) continue;
    const host =
      optionalString(service.Address, 'Service.Address') || optionalString(node.Address, 'Node.Address');
    const port = service.Port;
    const weights =
      service.Weights === undefined || service.Weights === null ? {} : object(service.Weights, 'Weights');
    const weight = weights.Passing ?? 1;
    const tags = service.Tags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))
      throw bad('Service.Tags is not a list of strings', tags);
    const serviceMeta = stringMap(service.Meta, 'Service.Meta');
    const nodeMeta = stringMap(node.Meta, 'Node.Meta');
    const zone = serviceMeta[zoneKey] ?? nodeMeta[zoneKey];
    const metadata: Record<string, string> = { ...serviceMeta };
    if (tags.length > 0) metadata.tags = tags.join(',');
    const nodeName = optionalString(node.Node, 'Node.Node');
    if (nodeName) metadata.node = nodeName;
    const datacenter = optionalString(node.Datacenter, 'Node.Datacenter');
    if (datacenter) metadata.datacenter = datacenter;
    const record: EndpointRecord = { host, port: port as number, weight: weight as number, metadata };
    if (zone !== undefined) record.zone = zone;
    try {
      parseEndpoint(record);
    } catch (err) {
      throw bad(`instance ${JSON.stringify(service.ID)}: ${(err as Error).message}`);
    }
    endpoints.push(record);
  }
  return endpoints;
}

/**
 * Reads `X-Consul-Index` as Consul's blocking-query rules want it: a positive integer; a value
 * that went backwards (or is missing) restarts from 0, so the next query is not stuck waiting.
 */
export function nextConsulIndex(header: string | string[] | undefined, previous: number): number {
  const text = Array.isArray(header) ? header[0] : header;
  const index = text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : 0;
  if (index <= 0 || index < previous) return 0;
  return index;
}
