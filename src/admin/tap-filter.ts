import type { RequestCompletion } from '../telemetry/completion-feed.js';

/** Which finished calls a tap client wants (every field optional: all calls). */
export interface TapFilter {
  /** Only this service. */
  service?: string;
  /** Only paths starting with this. */
  path?: string;
  /**
   * Only this status (`503`), status class (`5xx`), or `error`: calls that ended in an error,
   * with no response or with a body that failed after the headers.
   */
  status?: string;
  /** Only calls that took at least this many ms (to the end of the body). */
  minLatencyMs?: number;
}

const STATUS = /^([1-5])(\d\d|xx)$/;

/**
 * Reads a filter from `/tap`'s query (`service`, `path`, `status`, `min_latency` in ms).
 *
 * @returns the filter, or a sentence saying what is wrong with the query
 */
export function parseTapFilter(query: URLSearchParams): TapFilter | string {
  const filter: TapFilter = {};
  const service = query.get('service');
  if (service) filter.service = service;
  const path = query.get('path');
  if (path) {
    if (!path.startsWith('/')) return `path must start with '/', got ${JSON.stringify(path)}`;
    filter.path = path;
  }
  const status = query.get('status');
  if (status) {
    if (status !== 'error' && !STATUS.test(status))
      return `status must be a code (503), a class (5xx) or 'error', got ${JSON.stringify(status)}`;
    filter.status = status;
  }
  const minLatency = query.get('min_latency');
  if (minLatency) {
    const ms = Number(minLatency);
    if (!Number.isFinite(ms) || ms < 0)
      return `min_latency must be a number of ms >= 0, got ${JSON.stringify(minLatency)}`;
    filter.minLatencyMs = ms;
  }
  return filter;
}

/** Whether a finished call passes the filter. */
export function tapMatches(filter: TapFilter, call: RequestCompletion): boolean {
  if (filter.service !== undefined && call.service !== filter.service) return false;
  if (filter.path !== undefined && !call.path.startsWith(filter.path)) return false;
  if (filter.minLatencyMs !== undefined && call.latencyMs < filter.minLatencyMs) return false;
  const status = filter.status;
  if (status === undefined) return true;
  if (status === 'error') return call.error !== undefined;
  if (call.status === undefined) return false;
  return status.endsWith('xx') ? String(call.status)[0] === status[0] : String(call.status) === status;
}
