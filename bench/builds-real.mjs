// Before and after on real sockets: two (or more) checkouts of trellis, each built in place, each
// measured by `ab.mjs` in a process of its own (the checkout's client paired with a raw undici Pool
// in the same process), the checkouts taking turns. Two builds of trellis in ONE process are not a
// fair pair: they share undici's module, and whichever build is loaded second read about 1 µs per
// request cheaper, in either order (bench/RESULTS.md, eleventh session).
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

/** One process: the raw Pool and the checkout's client, paired; its last row is the client's. */
function measure(checkout) {
  const client = `${resolve(checkout)}/bench/clients/production.mjs#${values.factory}`;
  const out = execFileSync(
    values.node,
    [ab, '--pin', '--upstreams=3', `--blocks=${values.blocks}`, 'undici.mjs#undiciPoolRotated', client],
    { encoding: 'utf8' },
  );
  const cells = out.trim().split('\n').at(-1).split('|');
  return { added: Number(cells[3]), ratio: Number(cells[5]) };
}

const runs = new Map(positionals.map((checkout) => [checkout, []]));
for (let rep = 0; rep < Number(values.reps); rep++) {
  for (const checkout of positionals) runs.get(checkout).push(measure(checkout));
}
console.log(
  `${execFileSync(values.node, ['--version'], { encoding: 'utf8' }).trim()}; ${values.factory}, ` +
    `${values.reps} processes per checkout (each ${values.blocks} blocks paired with raw undici Pools over 3 upstreams)`,
);
console.log('| checkout | added CPU µs/req, median (each process) | × raw Pools req/s, median |');
console.log('|---|---|---|');
for (const [checkout, list] of runs) {
  const added = list.map((r) => r.added);
  console.log(
    `| ${checkout} | +${median(added).toFixed(2)} (${added.map((x) => x.toFixed(2)).join(', ')}) | ${median(list.map((r) => r.ratio)).toFixed(3)} |`,
  );
}
