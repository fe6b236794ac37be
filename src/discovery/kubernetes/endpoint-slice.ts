import { ErrorCode, TrellisError } from '../../core/errors.js';
import { type EndpointRecord, parseEndpoint } from '../endpoint.js';

/** One EndpointSlice reduced to what discovery needs. */
export interface SliceEndpoints {
  /** `metadata.name` of the slice (the key for watch updates). */
  readonly name: string;
  /** Ready endpoints on the chosen port. */
  readonly endpoints: EndpointRecord[];
}

function bad(why: string, data?: unknown): TrellisError {
  const sample = data === undefined ? '' : ` (${JSON.stringify(data)?.slice(0, 200)})`;
  return new TrellisError(
    ErrorCode.InvalidDiscoveryData,
    `Kubernetes EndpointSlice rejected: ${why}${sample}. Expected discovery.k8s.io/v1 EndpointSlice objects. ` +
      'The last good set stays in use.',
  );
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw bad(`${what} is not an object`, value);
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad(`${what} is not a list`, value);
  return value;
}

function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw bad(`${what} is not a boolean`, value);
  return value;
}

/** Picks the slice's port: the one named `portName`, or the only one when no name is given. */
function choosePort(ports: unknown[], portName: string | undefined, slice: string): number | undefined {
  const parsed = ports.map((raw) => {
    const port = object(raw, 'a port');
    if (
      port.port !== undefined &&
      port.port !== null &&
      !(Number.isInteger(port.port) && (port.port as number) > 0)
    ) {
      throw bad(`slice ${slice} has a port that is not a positive integer`, raw);
    }
    if (port.name !== undefined && port.name !== null && typeof port.name !== 'string') {
      throw bad(`slice ${slice} has a port name that is not a string`, raw);
    }
    return { name: (port.name as string | undefined | null) ?? '', port: port.port as number | undefined };
  });
  if (portName !== undefined) return parsed.find((p) => p.name === portName)?.port;
  if (parsed.length > 1) {
    throw bad(`slice ${slice} has ${parsed.length} ports: choose one with the 'port' option (by name)`);
  }
  return parsed[0]?.port;
}

/**
 * Parses one `discovery.k8s.io/v1` EndpointSlice. Keeps endpoints whose `conditions.ready` is
 * true or absent (the API says absent means unknown, to be treated as ready) and that are not
 * terminating; uses the first address of each (the API says addresses are fungible). The zone
 * becomes the endpoint's zone; `hints.forZones`, `nodeName`, `hostname` and the pod name become
 * metadata (`forZones` comma-joined). A slice without the chosen port contributes nothing.
 *
 * @param portName - the port to use when the slice lists several
 * @throws `TrellisError` `TRELLIS_INVALID_DISCOVERY_DATA` for anything malformed.
 */
export function parseEndpointSlice(data: unknown, portName?: string): SliceEndpoints {
  const slice = object(data, 'the EndpointSlice');
  const metadata = object(slice.metadata, 'metadata');
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') throw bad('metadata.name is missing', metadata);
  const addressType = slice.addressType;
  if (addressType !== 'IPv4' && addressType !== 'IPv6' && addressType !== 'FQDN') {
    throw bad(`slice ${name} has an unknown addressType`, addressType);
  }
  const port = choosePort(list(slice.ports, 'ports'), portName, name);
  const endpoints: EndpointRecord[] = [];
  for (const raw of list(slice.endpoints, 'endpoints')) {
    const endpoint = object(raw, 'an endpoint');
    const addresses = list(endpoint.addresses, 'addresses');
    if (addresses.length === 0 || addresses.some((a) => typeof a !== 'string')) {
      throw bad(`slice ${name} has an endpoint without string addresses`, raw);
    }
    const conditions = endpoint.conditions === undefined ? {} : object(endpoint.conditions, 'conditions');
    const ready = optionalBoolean(conditions.ready, 'conditions.ready') ?? true;
    const terminating = optionalBoolean(conditions.terminating, 'conditions.terminating') ?? false;
    const hints =
      endpoint.hints === undefined || endpoint.hints === null ? {} : object(endpoint.hints, 'hints');
    const forZones = list(hints.forZones, 'hints.forZones').map((z) => {
      const zoneName = object(z, 'a zone hint').name;
      if (typeof zoneName !== 'string') throw bad(`slice ${name} has a zone hint without a name`, z);
      return zoneName;
    });
    const meta: Record<string, string> = {};
    for (const field of ['nodeName', 'hostname'] as const) {
      const value = endpoint[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string') throw bad(`slice ${name} has a ${field} that is not a string`, value);
      meta[field] = value;
    }
    const targetRef = endpoint.targetRef;
    if (targetRef !== undefined && targetRef !== null) {
      const pod = object(targetRef, 'targetRef').name;
      if (typeof pod === 'string') meta.pod = pod;
    }
    if (forZones.length > 0) meta.forZones = forZones.join(',');
    const zone = endpoint.zone;
    if (zone !== undefined && zone !== null && typeof zone !== 'string')
      throw bad(`slice ${name} has a non-string zone`, zone);
    if (!ready || terminating || port === undefined) continue;
    const record: EndpointRecord = { host: addresses[0] as string, port, metadata: meta };
    if (typeof zone === 'string') record.zone = zone;
    try {
      parseEndpoint(record);
    } catch (err) {
      throw bad(`slice ${name}: ${(err as Error).message}`);
    }
    endpoints.push(record);
  }
  return { name, endpoints };
}

/** What one line of a Kubernetes watch stream says. */
export type WatchEvent =
  | {
      readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
      readonly object: unknown;
      readonly resourceVersion: string;
    }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string }
  | { readonly type: 'ERROR'; readonly code: number; readonly message: string };

/**
 * Parses one line of a Kubernetes watch stream (`{"type": ..., "object": ...}`).
 *
 * @throws `TrellisError` `TRELLIS_INVALID_DISCOVERY_DATA` for a malformed line.
 */
export function parseWatchEvent(line: string): WatchEvent {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    throw bad('a watch line is not JSON', line);
  }
  const event = object(data, 'a watch event');
  const obj = object(event.object, 'a watch event object');
  if (event.type === 'ERROR') {
    const code = typeof obj.code === 'number' ? obj.code : 0;
    return {
      type: 'ERROR',
      code,
      message: typeof obj.message === 'string' ? obj.message : JSON.stringify(obj),
    };
  }
  const resourceVersion = object(obj.metadata, 'the object metadata').resourceVersion;
  if (typeof resourceVersion !== 'string' || resourceVersion === '') {
    throw bad('a watch event has no metadata.resourceVersion', obj);
  }
  if (event.type === 'BOOKMARK') return { type: 'BOOKMARK', resourceVersion };
  if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') {
    throw bad('a watch event has an unknown type', event.type);
  }
  return { type: event.type, object: obj, resourceVersion };
}
