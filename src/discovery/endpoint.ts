import { isIP } from 'node:net';
import type { Endpoint } from '../core/endpoint.js';
import { ErrorCode, TrellisError } from '../core/errors.js';

export type { Endpoint } from '../core/endpoint.js';

/** What a resolver may publish for one endpoint: `'host:port'`, `'[::1]:port'`, or an object. */
export type EndpointInput = string | EndpointRecord;

/** An endpoint described field by field, as structured discovery sources publish it. */
export interface EndpointRecord {
  /** IP address or host name (IPv6 without brackets). */
  host: string;
  /** TCP port, 1 to 65535. */
  port: number;
  /** Relative weight, at least 0; 1 by default. */
  weight?: number;
  /** Locality zone. */
  zone?: string;
  /** Free-form string labels. */
  metadata?: Record<string, string>;
}

/** Most metadata labels one endpoint may carry. */
export const MAX_METADATA_ENTRIES = 64;
/** Longest metadata label name, zone name, in characters. */
export const MAX_LABEL_LENGTH = 256;
/** Longest metadata label value, in characters. */
export const MAX_LABEL_VALUE_LENGTH = 1024;

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62}))*\.?$/;
const EMPTY_METADATA: Readonly<Record<string, string>> = Object.freeze({});

function invalid(input: unknown, why: string): TrellisError {
  return new TrellisError(
    ErrorCode.InvalidDiscoveryData,
    `Invalid endpoint ${JSON.stringify(input)?.slice(0, 300)}: ${why}. Use 'host:port', '[ipv6]:port' or { host, port }.`,
    { details: { input } },
  );
}

function checkHost(host: unknown, input: unknown): string {
  if (typeof host !== 'string' || host.length === 0) throw invalid(input, 'the host is empty');
  if (isIP(host) !== 0 || HOSTNAME.test(host)) return host;
  throw invalid(input, `'${host}' is neither an IP address nor a valid host name`);
}

function checkPort(port: unknown, input: unknown): number {
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) return port;
  throw invalid(input, `the port must be an integer from 1 to 65535, not ${JSON.stringify(port)}`);
}

/** `scheme://` at the start: a URL where a `host:port` belongs. */
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function splitAddress(input: string): [string, string] {
  if (URL_SCHEME.test(input)) {
    const authority = input.replace(URL_SCHEME, '').replace(/[/?#].*$/, '');
    throw invalid(
      input,
      `this is a URL; an endpoint is an address: drop the scheme and write '${authority}' ` +
        '(connections use TLS when the service has transport({ tls }))',
    );
  }
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0 || input[close + 1] !== ':')
      throw invalid(input, 'an IPv6 address needs the form [addr]:port');
    return [input.slice(1, close), input.slice(close + 2)];
  }
  const colon = input.lastIndexOf(':');
  if (colon < 0) throw invalid(input, 'the port is missing');
  if (input.indexOf(':') !== colon) throw invalid(input, 'IPv6 addresses must be written in brackets');
  return [input.slice(0, colon), input.slice(colon + 1)];
}

/** The `host:port` identity of an endpoint, with IPv6 hosts in brackets. */
export function endpointId(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function checkMetadata(metadata: unknown, input: unknown): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw invalid(input, 'metadata must map strings to strings');
  }
  let count = 0;
  for (const name in metadata) {
    if (!Object.hasOwn(metadata, name)) continue;
    const value = (metadata as Record<string, unknown>)[name];
    if (typeof value !== 'string') throw invalid(input, 'metadata must map strings to strings');
    if (++count > MAX_METADATA_ENTRIES) {
      throw invalid(input, `metadata may have at most ${MAX_METADATA_ENTRIES} labels`);
    }
    if (name.length > MAX_LABEL_LENGTH || value.length > MAX_LABEL_VALUE_LENGTH) {
      throw invalid(
        input,
        `metadata label names may have at most ${MAX_LABEL_LENGTH} characters and values ${MAX_LABEL_VALUE_LENGTH}`,
      );
    }
  }
}

/**
 * Validates one endpoint description and returns its normalized form.
 *
 * @throws `TrellisError` `TRELLIS_INVALID_DISCOVERY_DATA` naming what is wrong.
 */
export function parseEndpoint(input: EndpointInput): Endpoint {
  if (typeof input === 'string') {
    const [rawHost, rawPort] = splitAddress(input.trim());
    const host = checkHost(rawHost, input);
    const port = checkPort(/^\d{1,5}$/.test(rawPort) ? Number(rawPort) : rawPort, input);
    return { id: endpointId(host, port), host, port, weight: 1, zone: undefined, metadata: EMPTY_METADATA };
  }
  if (input === null || typeof input !== 'object') throw invalid(input, 'expected a string or an object');
  const host = checkHost(input.host, input);
  const port = checkPort(input.port, input);
  const weight = input.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw invalid(input, 'the weight must be a finite number >= 0');
  }
  if (input.zone !== undefined && (typeof input.zone !== 'string' || input.zone.length > MAX_LABEL_LENGTH))
    throw invalid(input, `the zone must be a string of at most ${MAX_LABEL_LENGTH} characters`);
  const metadata = input.metadata ?? EMPTY_METADATA;
  checkMetadata(metadata, input);
  return { id: endpointId(host, port), host, port, weight, zone: input.zone, metadata };
}
