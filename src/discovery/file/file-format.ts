import { ErrorCode, TrellisError } from '../../core/errors.js';
import { type Endpoint, parseEndpoint } from '../endpoint.js';

function bad(path: string, why: string): TrellisError {
  return new TrellisError(
    ErrorCode.InvalidDiscoveryData,
    `Endpoint file ${path}: ${why}. Expected {"services": {"<name>": ["host:port" or {"host", "port", ...}]}} ` +
      'or a plain list of endpoints. The last good set stays in use.',
    { details: { path } },
  );
}

/**
 * Parses an endpoint file for one service. Two shapes are accepted:
 * - `{"services": {"api": [...], "billing": [...]}}`, one file for many services; the entry
 *   named `key` is used (a missing entry is an error, not an empty set);
 * - `[...]`, the endpoints of the one service the file is for.
 *
 * Each endpoint is `"host:port"` or `{"host", "port", "weight"?, "zone"?, "metadata"?}`. Unknown
 * top-level fields are rejected, so a typo does not silently mean "no endpoints".
 *
 * @throws `TrellisError` `TRELLIS_INVALID_DISCOVERY_DATA` naming the file and the problem.
 */
export function parseEndpointFile(text: string, key: string, path = '(file)'): Endpoint[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw bad(path, `not valid JSON (${(err as Error).message})`);
  }
  let list: unknown = data;
  if (!Array.isArray(data)) {
    if (data === null || typeof data !== 'object')
      throw bad(path, 'the top level is neither an object nor a list');
    const extra = Object.keys(data).filter((field) => field !== 'services');
    if (extra.length > 0) throw bad(path, `unknown top-level field(s) ${extra.join(', ')}`);
    const services = (data as { services?: unknown }).services;
    if (services === null || typeof services !== 'object' || Array.isArray(services)) {
      throw bad(path, '"services" must be an object mapping service names to endpoint lists');
    }
    if (!Object.hasOwn(services, key)) throw bad(path, `there is no entry for service '${key}'`);
    list = (services as Record<string, unknown>)[key];
    if (!Array.isArray(list)) throw bad(path, `the entry for '${key}' is not a list`);
  }
  return (list as unknown[]).map((entry, index) => {
    try {
      return parseEndpoint(entry as never);
    } catch (err) {
      throw bad(path, `endpoint #${index + 1}: ${(err as Error).message}`);
    }
  });
}
