import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { etcdEndpoints } from '../../src/discovery/etcd/etcd-resolver.js';
import { SNAPSHOT_PAGE_KEYS } from '../../src/discovery/etcd/etcd-watch.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { until } from '../support/discovery.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { EtcdWriter } from '../support/etcd-writer.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';

/** A registration value as registerEndpoint writes it, for the n-th instance. */
function registration(n: number): string {
  return JSON.stringify({
    host: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    port: 8080,
    weight: 1,
  });
}

/**
 * Work per discovery event, counted rather than timed: every JSON.parse in this process is
 * counted while etcd is written to by a writer that parses nothing. Before incremental apply,
 * each event re-parsed every registration (about n/2 parses per key while n keys arrive).
 */
describeWithBinaries([ETCD], 'etcd discovery at scale, against a real etcd (work per event)', () => {
  let etcd: EtcdServer;
  let client: EtcdClient;
  let writer: EtcdWriter;
  const meshes: Mesh[] = [];
  beforeAll(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: [etcd.url], timeoutMs: 5000 });
    writer = new EtcdWriter(etcd.url);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(meshes.splice(0).map((m) => m.close()));
  });
  afterAll(async () => {
    await client?.close();
    await etcd?.destroy();
  });

  function meshOn(
    prefix: string,
    updates = { debounceMs: 20, maxDelayMs: 200 },
    reconnect?: { minBackoffMs: number; maxBackoffMs: number },
  ): Mesh {
    const mesh = Mesh.builder()
      .service('api', (s) => s.discovery(etcdEndpoints({ etcd: client, prefix, updates, reconnect })))
      .build();
    meshes.push(mesh);
    return mesh;
  }

  it('parses each registration once, however many are registered already (one key and lease each)', async () => {
    const mesh = meshOn('/storm/');
    const parse = vi.spyOn(JSON, 'parse');
    /** Registers instances [from, to) one by one, each under its own lease; returns the parses it cost. */
    const register = async (from: number, to: number): Promise<number> => {
      const before = parse.mock.calls.length;
      for (let n = from; n < to; n++) {
        const lease = await writer.grant(60);
        await writer.put(`/storm/api/instance-${n}`, registration(n), lease);
      }
      await until(() => mesh.snapshot('api').length === to, `${to} endpoints in the mesh`, 60_000);
      return parse.mock.calls.length - before;
    };
    const first = await register(0, 300);
    await register(300, 1200);
    const last = await register(1200, 1500);
    // One parse of the watch message (etcd may batch several events in one) and one of the
    // value, per registration, with 0 or with 1,200 already registered.
    // (The first batch also pays for the initial read and the watch's "created" message.)
    expect(first).toBeLessThanOrEqual(2 * 300 + 5);
    expect(last).toBeLessThanOrEqual(2 * 300);
    expect(first).toBeGreaterThanOrEqual(300);
    expect(last).toBeGreaterThanOrEqual(300);
  }, 120_000);

  it('reads a large prefix page by page and parses each key once when it starts', async () => {
    const keys = 12_000;
    await writer.putMany(
      Array.from({ length: keys }, (_, n) => [`/snap/api/instance-${n}`, registration(n)] as const),
    );
    const parse = vi.spyOn(JSON, 'parse');
    const mesh = meshOn('/snap/');
    await until(() => mesh.snapshot('api').length === keys, 'the whole snapshot in the mesh', 60_000);
    const pages = Math.ceil(keys / SNAPSHOT_PAGE_KEYS);
    // One parse per value plus one per page (and at most a few replies besides).
    expect(parse.mock.calls.length).toBeGreaterThanOrEqual(keys + pages);
    expect(parse.mock.calls.length).toBeLessThanOrEqual(keys + pages + 5);
    // No reply was the whole prefix at once: the largest string parsed is one page.
    const longest = Math.max(...parse.mock.calls.map(([text]) => String(text).length));
    expect(longest).toBeLessThan(SNAPSHOT_PAGE_KEYS * 400);
  }, 120_000);

  it('resyncs after compaction with the same cost, and ends with what etcd holds', async () => {
    // The watch waits 4 to 8 s before reconnecting: time to change and compact what it missed.
    const mesh = meshOn('/compact/', undefined, { minBackoffMs: 8000, maxBackoffMs: 8000 });
    await writer.putMany(
      Array.from({ length: 2000 }, (_, n) => [`/compact/api/instance-${n}`, registration(n)] as const),
    );
    await until(() => mesh.snapshot('api').length === 2000, '2000 endpoints', 60_000);
    await etcd.stop();
    await etcd.restart();
    const parse = vi.spyOn(JSON, 'parse');
    for (let n = 0; n < 100; n++) await writer.delete(`/compact/api/instance-${n}`);
    await writer.compact();
    await until(() => mesh.snapshot('api').length === 1900, 'the deletions, seen by a resync', 60_000);
    // The missed revisions were compacted, so the watch re-read the prefix (two pages) and parsed
    // each remaining key once; it did not replay the deletions.
    expect(parse.mock.calls.length).toBeGreaterThanOrEqual(1900);
    expect(parse.mock.calls.length).toBeLessThanOrEqual(1900 + 10);
  }, 120_000);

  it('coalesces a registration flapping up and down 100 times a second into a few applies', async () => {
    const mesh = meshOn('/flap/', { debounceMs: 100, maxDelayMs: 1000 });
    await writer.put('/flap/api/steady', registration(1));
    await until(() => mesh.snapshot('api').length === 1, 'the steady entry');
    let applies = 0;
    mesh.on('endpoints', () => {
      applies++;
    });
    const flaps = 200;
    const started = Date.now();
    for (let i = 0; i < flaps; i++) {
      if (i % 2 === 0) await writer.put('/flap/api/flapper', registration(2));
      else await writer.delete('/flap/api/flapper');
      // about 100 changes a second (slower if etcd is slower)
      const due = started + (i + 1) * 10;
      if (Date.now() < due) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    const seconds = (Date.now() - started) / 1000;
    await until(() => mesh.snapshot('api').length === 1, 'the flapper gone at the end', 5000);
    // At most one apply per maxDelayMs while the key keeps flapping, plus the last one.
    expect(applies).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
  }, 60_000);
});
