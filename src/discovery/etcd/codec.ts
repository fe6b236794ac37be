import { ErrorCode, TrellisError } from '../../core/errors.js';

/** One key as etcd stores it, with keys and values decoded as UTF-8. */
export interface EtcdKeyValue {
  /** The key. */
  readonly key: string;
  /** The value (empty for a delete event). */
  readonly value: string;
  /** Revision of the last change to this key. */
  readonly modRevision: number;
  /** Revision at which the key was created. */
  readonly createRevision: number;
  /** Lease the key is attached to, `'0'` for none. */
  readonly lease: string;
}

/** One change seen by a watch. */
export interface EtcdEvent {
  /** `put` for a create or update, `delete` for a removal (including lease expiry). */
  readonly type: 'put' | 'delete';
  /** The key after the change (for `delete`, only `key` and `modRevision` are meaningful). */
  readonly kv: EtcdKeyValue;
}

/** Base64 of a UTF-8 string, as etcd's JSON gateway wants bytes. */
export function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * The `range_end` that selects every key starting with `prefix`: the prefix with its last byte
 * that is not 0xff incremented (etcd's convention; `\0` means "to the end of the key space").
 */
export function prefixRangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]! += 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

export function malformed(what: string, data: unknown): TrellisError {
  const sample = JSON.stringify(data)?.slice(0, 200);
  return new TrellisError(
    ErrorCode.DiscoveryFailed,
    `etcd answered with ${what} (${sample}). Check that the address points at an etcd v3 server (3.4 or later).`,
    { details: { response: data } },
  );
}

function record(data: unknown, what: string): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw malformed(what, data);
  return data as Record<string, unknown>;
}

/** etcd's gateway writes int64 as decimal strings and omits zero values. */
export function int64(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) return Number(value);
  throw malformed(`a non-integer ${what}`, value);
}

/** Lease IDs use all 64 bits, so they stay decimal strings. */
export function leaseId(value: unknown): string {
  if (value === undefined) return '0';
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw malformed('a malformed lease ID', value);
}

function bytes(value: unknown, what: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw malformed(`a ${what} that is not base64`, value);
  }
  return Buffer.from(value, 'base64').toString('utf8');
}

export function parseKeyValue(data: unknown): EtcdKeyValue {
  const kv = record(data, 'a malformed key-value');
  return {
    key: bytes(kv.key, 'key'),
    value: bytes(kv.value, 'value'),
    modRevision: int64(kv.mod_revision, 'mod_revision'),
    createRevision: int64(kv.create_revision, 'create_revision'),
    lease: leaseId(kv.lease),
  };
}

/** The store revision from a response header. */
export function headerRevision(body: Record<string, unknown>): number {
  return int64(record(body.header ?? {}, 'a malformed header').revision, 'revision');
}

/** Parses a whole JSON reply, insisting on an object. */
export function parseReply(text: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw malformed('something that is not JSON', text);
  }
  return record(data, 'a non-object reply');
}

export function parseKvs(list: unknown): EtcdKeyValue[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw malformed('a kvs field that is not a list', list);
  return list.map(parseKeyValue);
}

/** One message of a watch stream, already unwrapped from the gateway's `{"result": ...}`. */
export interface WatchMessage {
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  readonly cancelReason: string;
  readonly events: EtcdEvent[];
}

export function parseWatchMessage(line: string): WatchMessage {
  const outer = parseReply(line);
  if (outer.error !== undefined) {
    const error = record(outer.error, 'a malformed watch error');
    throw new TrellisError(
      ErrorCode.DiscoveryFailed,
      `etcd ended the watch: ${String(error.message ?? JSON.stringify(error))}.`,
      { details: { response: outer } },
    );
  }
  const result = record(outer.result, 'a watch message without a result');
  const events = result.events ?? [];
  if (!Array.isArray(events)) throw malformed('watch events that are not a list', events);
  return {
    created: result.created === true,
    canceled: result.canceled === true,
    compactRevision: int64(result.compact_revision, 'compact_revision'),
    cancelReason: typeof result.cancel_reason === 'string' ? result.cancel_reason : '',
    events: events.map((raw) => {
      const event = record(raw, 'a malformed watch event');
      if (event.type !== undefined && event.type !== 'PUT' && event.type !== 'DELETE') {
        throw malformed('an unknown event type', event.type);
      }
      return { type: event.type === 'DELETE' ? 'delete' : 'put', kv: parseKeyValue(event.kv) };
    }),
  };
}
