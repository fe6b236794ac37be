// Issue 5: how fast a rules change reaches the clients (the control plane). Three client meshes
// in this process follow an etcd key, and one follows a watched file; the script times each
// change from the write to the moment every client has it in force (the source's `applied`
// event): an etcd put, a file replaced by rename, and a whole `trellis split set` command (a new
// Node process, as an operator runs it). Needs `etcd` on the PATH and a build (`npm run build`).
//   node bench/routing-propagation.mjs [--changes=20]
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Mesh } from 'trellis';
import { EtcdClient, staticEndpoints } from 'trellis/discovery';
import { etcdRules, fileRules } from 'trellis/routing';
import { startEtcd } from './lib/etcd.mjs';

const { values } = parseArgs({ options: { changes: { type: 'string', default: '20' } } });
const changes = Number(values.changes);
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const KEY = '/trellis/routes';

const split = (v2) => ({
  services: {
    users: {
      routes: [
        {
          split: [
            { backend: 'users', weight: 100 - v2 },
            { backend: 'users-v2', weight: v2 },
          ],
        },
      ],
    },
  },
});

function clientMesh(rules) {
  return Mesh.builder()
    .rules(rules)
    .service('users', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])))
    .service('users-v2', (s) => s.discovery(staticEndpoints(['127.0.0.1:2'])))
    .build();
}

/** Milliseconds from `write()` until every source has applied a new table. */
async function timeChange(sources, write) {
  const applied = Promise.all(sources.map((source) => once(source, 'applied')));
  const started = performance.now();
  await write();
  await applied;
  return performance.now() - started;
}

function summary(label, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  return `| ${label} | ${samples.length} | ${at(0.5)} | ${at(0.9)} | ${sorted.at(-1).toFixed(1)} |`;
}

const dir = mkdtempSync(join(tmpdir(), 'trellis-propagation-'));
const { url, stop: stopEtcd } = await startEtcd();
const rows = [];
try {
  const etcd = new EtcdClient({ endpoints: [url] });
  const sources = [0, 1, 2].map(() => etcdRules({ endpoints: [url] }));
  const meshes = sources.map(clientMesh);
  await Promise.all(sources.map((s) => s.loaded()));

  const put = [];
  for (let i = 1; i <= changes; i++)
    put.push(await timeChange(sources, () => etcd.put(KEY, JSON.stringify(split(i % 100)))));
  rows.push(summary('etcd put -> applied in 3 clients', put));

  const cli = [];
  for (let i = 1; i <= Math.min(changes, 10); i++) {
    cli.push(
      await timeChange(sources, () =>
        promisify(execFile)(process.execPath, [
          CLI,
          'split',
          'set',
          'users',
          `users=${100 - i}`,
          `users-v2=${i}`,
          '--etcd',
          url,
        ]),
      ),
    );
  }
  rows.push(summary('`trellis split set` (new process) -> applied in 3 clients', cli));

  const file = join(dir, 'routes.json');
  writeFileSync(file, JSON.stringify(split(0)));
  const fileSource = fileRules(file);
  meshes.push(clientMesh(fileSource));
  const renamed = [];
  for (let i = 1; i <= changes; i++) {
    renamed.push(
      await timeChange([fileSource], () => {
        writeFileSync(`${file}.tmp`, JSON.stringify(split(i % 100)));
        renameSync(`${file}.tmp`, file);
      }),
    );
  }
  rows.push(summary('file replaced (rename) -> applied', renamed));

  await Promise.all(meshes.map((m) => m.close()));
  await etcd.close();
} finally {
  await stopEtcd();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(
  `Node ${process.version}; ms from the write to the rules in force everywhere.\n\n` +
    `| change | n | median ms | p90 ms | max ms |\n|---|---|---|---|---|\n${rows.join('\n')}\n`,
);
