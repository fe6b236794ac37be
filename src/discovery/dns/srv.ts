import { ErrorCode, TrellisError } from '../../core/errors.js';
import { type EndpointRecord, endpointId } from '../endpoint.js';

/** One SRV record, as `node:dns` `resolveSrv` returns it. */
export interface SrvRecord {
  /** Target host name. */
  name: string;
  /** Target port. */
  port: number;
  /** Lower is preferred; higher priorities are backups. */
  priority: number;
  /** Relative weight within a priority. */
  weight: number;
}

/** RFC 2782: weight 0 means "a very small chance" when others in the group have weight. */
const ZERO_WEIGHT_SHARE = 0.01;

function isUint16(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535;
}

/**
 * Checks SRV records field by field.
 *
 * @throws `TrellisError` `TRELLIS_INVALID_DISCOVERY_DATA` for a record out of range.
 */
export function checkSrvRecords(name: string, records: unknown): SrvRecord[] {
  if (!Array.isArray(records)) throw badSrv(name, 'the answer is not a list', records);
  for (const record of records) {
    const r = record as Partial<SrvRecord> | null;
    if (
      r === null ||
      typeof r !== 'object' ||
      typeof r.name !== 'string' ||
      !isUint16(r.port) ||
      !isUint16(r.priority) ||
      !isUint16(r.weight)
    ) {
      throw badSrv(name, 'a record has a missing or out-of-range field', record);
    }
  }
  return records as SrvRecord[];
}

function badSrv(name: string, why: string, data: unknown): TrellisError {
  return new TrellisError(
    ErrorCode.InvalidDiscoveryData,
    `SRV answer for ${name}: ${why} (${JSON.stringify(data)?.slice(0, 200)}). The last good set stays in use.`,
    { details: { name } },
  );
}

/**
 * Turns SRV records and the addresses of their targets into endpoints.
 *
 * Only the lowest priority that has at least one target with an address is used (higher
 * priorities are backups, used when every preferred target is gone). Within it, each record's
 * weight is shared among its target's addresses; weight 0 gets a very small share (RFC 2782)
 * unless every record has 0, in which case all are equal. Targets `.` ("no service") and targets
 * without addresses are skipped; the same address and port listed twice is merged, weights added.
 *
 * @param addresses - the addresses of each target name
 */
export function selectSrvEndpoints(
  records: readonly SrvRecord[],
  addresses: ReadonlyMap<string, readonly string[]>,
): EndpointRecord[] {
  const usable = records.filter(
    (r) => r.name !== '.' && r.name !== '' && r.port > 0 && (addresses.get(r.name)?.length ?? 0) > 0,
  );
  if (usable.length === 0) return [];
  const best = Math.min(...usable.map((r) => r.priority));
  const group = usable.filter((r) => r.priority === best);
  const allZero = group.every((r) => r.weight === 0);
  const byId = new Map<string, EndpointRecord>();
  for (const record of group) {
    const hosts = addresses.get(record.name)!;
    const weight = allZero ? 1 : record.weight === 0 ? ZERO_WEIGHT_SHARE : record.weight;
    for (const host of hosts) {
      const id = endpointId(host, record.port);
      const share = weight / hosts.length;
      const seen = byId.get(id);
      if (seen) {
        seen.weight = (seen.weight ?? 0) + share;
        continue;
      }
      byId.set(id, {
        host,
        port: record.port,
        weight: share,
        metadata: { target: record.name, priority: String(record.priority) },
      });
    }
  }
  return [...byId.values()];
}
