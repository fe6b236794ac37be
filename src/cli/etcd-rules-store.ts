import { ErrorCode, TrellisError } from '../core/errors.js';
import { encode } from '../discovery/etcd/codec.js';
import { type EtcdClient, etcdCall } from '../discovery/etcd/etcd-client.js';
import { parseRules } from '../routing/parse-rules.js';
import type { RouteTable } from '../routing/rules.js';

/** The rules document under a key, with the revision it was read at (0 = no key). */
export interface StoredRules {
  readonly table: RouteTable;
  readonly modRevision: number;
}

/** Reads and validates the rules stored under `key`. */
export async function readRules(client: EtcdClient, key: string): Promise<StoredRules> {
  const kv = await client.get(key);
  if (kv === undefined) return { table: parseRules(''), modRevision: 0 };
  return { table: parseRules(kv.value, `etcd key ${key}`), modRevision: kv.modRevision };
}

/**
 * Writes `table` under `key` only if nobody changed the key since it was read at
 * `modRevision` (an etcd transaction), so two operators cannot overwrite each other's change.
 *
 * @throws {@link TrellisError} when the key changed meanwhile: read again and retry.
 */
export async function writeRules(
  client: EtcdClient,
  key: string,
  table: RouteTable,
  modRevision: number,
): Promise<void> {
  const compare =
    modRevision === 0
      ? { key: encode(key), result: 'EQUAL', target: 'CREATE', create_revision: '0' }
      : { key: encode(key), result: 'EQUAL', target: 'MOD', mod_revision: String(modRevision) };
  const value = `${JSON.stringify(table, null, 2)}\n`;
  const reply = await etcdCall(client, '/v3/kv/txn', {
    compare: [compare],
    success: [{ request_put: { key: encode(key), value: encode(value) } }],
  });
  if (reply.succeeded !== true) {
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      `The rules under ${key} changed while this command ran; nothing was written. Run it again.`,
    );
  }
}
