import { request } from 'undici';

/**
 * Writes to etcd's JSON gateway without parsing a single reply as JSON, so that a test counting
 * `JSON.parse` calls counts only what the code under test parses.
 */
export class EtcdWriter {
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  async #post(path: string, body: unknown): Promise<string> {
    const res = await request(`${this.#url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`etcd ${path} answered ${res.statusCode}: ${text}`);
    return text;
  }

  /** Grants a lease; returns its ID (read from the reply with a regular expression). */
  async grant(ttlSeconds: number): Promise<string> {
    const text = await this.#post('/v3/lease/grant', { TTL: ttlSeconds });
    const id = /"ID":"(\d+)"/.exec(text)?.[1];
    if (id === undefined) throw new Error(`no lease ID in ${text}`);
    return id;
  }

  async put(key: string, value: string, lease?: string): Promise<void> {
    await this.#post('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease && { lease }) });
  }

  async delete(key: string): Promise<void> {
    await this.#post('/v3/kv/deleterange', { key: b64(key) });
  }

  /** Puts many keys, 128 to a transaction (etcd's default limit). */
  async putMany(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    for (let i = 0; i < entries.length; i += 128) {
      const success = entries
        .slice(i, i + 128)
        .map(([key, value]) => ({ request_put: { key: b64(key), value: b64(value) } }));
      await this.#post('/v3/kv/txn', { success });
    }
  }

  /** Compacts the history up to the current revision. */
  async compact(): Promise<void> {
    const text = await this.#post('/v3/kv/range', { key: b64('\0'), limit: 1 });
    const revision = /"revision":"(\d+)"/.exec(text)?.[1];
    await this.#post('/v3/kv/compaction', { revision, physical: true });
  }
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
