// Watch cost per update: trellis's EtcdClient (etcd's JSON gateway over undici) against the
// `etcd3` package (gRPC), each watching a prefix in this process while a writer process puts
// keys (src/discovery/etcd/README.md quotes the figures). `etcd3` is not a dependency: install
// it next to the build without saving it first.
//   npm run build && npm install --no-save etcd3@1.1.2
//   node bench/discovery/etcd3-compare.mjs --client=trellis|etcd3 [--count=2000] [--mode=register|preload]
// register: one put per event (each under its own lease), as a fleet registering; preload:
// transactions of 128 puts, so etcd sends events in batches.
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startEtcd } from '../lib/etcd.mjs';

const { values } = parseArgs({
  options: {
    client: { type: 'string', default: 'trellis' },
    count: { type: 'string', default: '2000' },
    mode: { type: 'string', default: 'register' },
  },
});
const count = Number(values.count);
const PREFIX = '/compare/api/';
const etcd = await startEtcd();
let seen = 0;
let allSeen;
const done = new Promise((resolve) => {
  allSeen = resolve;
});
const onEvents = (n) => {
  seen += n;
  if (seen >= count) allSeen();
};
let close;
try {
  const setupStart = process.cpuUsage();
  if (values.client === 'trellis') {
    const { EtcdClient } = await import('trellis/discovery');
    const client = new EtcdClient({ endpoints: [etcd.url] });
    const watch = client.watch(PREFIX, { onSnapshot() {}, onEvents: (events) => onEvents(events.length) });
    close = async () => {
      await watch.close();
      await client.close();
    };
  } else {
    const { Etcd3 } = await import('etcd3');
    const client = new Etcd3({ hosts: etcd.url });
    const watcher = await client.watch().prefix(PREFIX).create();
    watcher.on('put', () => onEvents(1));
    close = async () => {
      await watcher.cancel();
      client.close();
    };
  }
  await new Promise((resolve) => setTimeout(resolve, 300)); // the watch is open
  const setup = process.cpuUsage(setupStart);
  const before = process.cpuUsage();
  const writer = fork(new URL('./etcd-writer.mjs', import.meta.url).pathname, [
    JSON.stringify({ url: etcd.url, prefix: PREFIX, mode: values.mode, count }),
  ]);
  await done;
  const used = process.cpuUsage(before);
  await new Promise((resolve) => writer.on('exit', resolve));
  console.log(
    `${values.client}, ${values.mode} ${count}: CPU per event ${((used.user + used.system) / count).toFixed(1)} µs; ` +
      `start-up CPU (import, connect, watch) ${((setup.user + setup.system) / 1000).toFixed(0)} ms; ` +
      `RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
  );
} finally {
  await close?.();
  await etcd.stop();
}
