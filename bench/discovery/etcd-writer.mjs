// The fleet side of the etcd discovery benchmark, in its own process so that its CPU is not
// counted against the mesh: registers, preloads or flaps keys through etcd's JSON gateway.
//   node bench/discovery/etcd-writer.mjs '<spec JSON>'
// spec: { url, prefix, mode: 'register' | 'preload' | 'flap', count, seconds, perSecond }
// Sends { type: 'progress', done } over IPC every 500 writes, and { type: 'done' } at the end.
import { request } from 'undici';

const { url, prefix, mode, count = 0, seconds = 0, perSecond = 100 } = JSON.parse(process.argv[2]);
const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');

async function post(path, body) {
  const res = await request(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`etcd ${path}: ${res.statusCode} ${text}`);
  return text;
}

/** The value registerEndpoint writes for the n-th instance. */
export function registration(n) {
  return JSON.stringify({
    host: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    port: 8080,
    weight: 1,
    zone: `zone-${n % 3}`,
    metadata: { version: 'v1' },
  });
}

const key = (n) => `${prefix}instance-${n}`;

if (mode === 'register') {
  // One by one, each with its own lease, as a fleet starting up does.
  for (let n = 0; n < count; n++) {
    const lease = /"ID":"(\d+)"/.exec(await post('/v3/lease/grant', { TTL: 3600 }))[1];
    await post('/v3/kv/put', { key: b64(key(n)), value: b64(registration(n)), lease });
    if ((n + 1) % 500 === 0) process.send({ type: 'progress', done: n + 1 });
  }
} else if (mode === 'preload') {
  for (let n = 0; n < count; n += 128) {
    const success = [];
    for (let i = n; i < Math.min(count, n + 128); i++) {
      success.push({ request_put: { key: b64(key(i)), value: b64(registration(i)) } });
    }
    await post('/v3/kv/txn', { success });
  }
} else if (mode === 'flap') {
  // A key of its own (not one of the preloaded ones), describing one more endpoint.
  const flapper = b64(`${prefix}flapper`);
  const started = performance.now();
  for (let i = 0; performance.now() - started < seconds * 1000; i++) {
    if (i % 2 === 0) await post('/v3/kv/put', { key: flapper, value: b64(registration(count)) });
    else await post('/v3/kv/deleterange', { key: flapper });
    const due = started + ((i + 1) * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
process.send({ type: 'done' });
process.disconnect();
