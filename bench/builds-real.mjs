// Before and after on real sockets: two (or more) checkouts of trellis, each built in place, each
// measured by `ab.mjs` in a process of its own (the checkout's client paired with a raw undici Pool
// in the same process), the checkouts taking turns. Clients paired in one process are not equal:
// of two identical raw Pool clients, the one created second read 0.29 to 0.51 µs per request
// dearer (three processes), and of three, the second read +0.38 to +0.75 and the third about
// +0.0 (bench/RESULTS.md, twelfth session). That is why two builds in one process misled (the
// eleventh session saw the later-loaded one read ~1 µs cheaper in either order: it was the third
// client), and why the processes here alternate which of the pair is created first.
//   node bench/builds-real.mjs [--reps=5] [--blocks=60] [--factory=meshProduction] [--node=<binary>] <checkout> <checkout> ...
// A checkout is a directory with bench/clients/production.mjs and its build in dist/, e.g.:
//   git archive <commit> | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/ &&
//   (cd /tmp/old && npx tsc -p tsconfig.build.json) && npm run build &&
//   node bench/builds-real.mjs /tmp/old .
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/aggregate.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string', default: '5' },
    blocks: { type: 'string', default: '60' },
    factory: { type: 'string', default: 'meshProduction' },
    node: { type: 'string', default: process.execPath },
  },
});
if (positionals.length < 1) throw new Error('name at least one checkout directory');
const ab = fileURLToPath(new URL('./ab.mjs', import.meta.url));

/**
 * One process: the raw Pool and the checkout's client, paired. `clientFirst` makes the client the
 * first one created: in a pair of identical clients the second-created one reads about 0.4 µs
 * dearer (see the header), so processes alternate the order and the difference is taken either
 * way round.
 */
function measure(checkout, clientFirst) {
  const client = `${resolve(checkout)}/bench/clients/production.mjs#${values.factory}`;
  const raw = 'undici.mjs#undiciPoolRotated';
  const out = execFileSync(
    values.node,
    [
      ab,
      '--pin',
      '--upstreams=3',
      `--blocks=${values.blocks}`,
      ...(clientFirst ? [client, raw] : [raw, client]),
    ],
    { encoding: 'utf8' },
  );
  const cells = out.trim().split('\n').at(-1).split('|');
  const added = Number(cells[3]);
  const ratio = Number(cells[5]);
  // The last row is the second client's, against the first.
  return clientFirst ? { added: -added, ratio: 1 / ratio } : { added, ratio };
}

const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

const runs = new Map(positionals.map((checkout) => [checkout, []]));
for (let rep = 0; rep < Number(values.reps); rep++) {
  for (const checkout of positionals) runs.get(checkout).push(measure(checkout, rep % 2 === 1));
}
console.log(
  `${execFileSync(values.node, ['--version'], { encoding: 'utf8' }).trim()}; ${values.factory}, ` +
    `${values.reps} processes per checkout (each ${values.blocks} blocks paired with raw undici Pools over 3 upstreams; ` +
    'the raw Pools created first in the 1st, 3rd... process, second in the others)',
);
console.log('| checkout | added CPU µs/req, median (each process) | × raw Pools req/s, median |');
console.log('|---|---|---|');
for (const [checkout, list] of runs) {
  const added = list.map((r) => r.added);
  console.log(
    `| ${checkout} | ${signed(median(added))} (${added.map(signed).join(', ')}) | ${median(list.map((r) => r.ratio)).toFixed(3)} |`,
  );
}
