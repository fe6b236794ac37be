// Summarises V8 .cpuprofile files (from `node bench/run.mjs --cpu-prof ...`): self time per
// function and per source file, as a share of the sampled time, so two configurations' profiles
// can be compared side by side.
//   node bench/profile-summary.mjs [--top=25] [--match=trellis] [--attribute=trellis/] <file.cpuprofile>...
// --attribute=<part> adds a third table: every sample charged to the innermost frame on its stack
// whose short location (as the tables print it: `trellis/dist/...`, `undici/lib/...`) contains it, so a trellis function carries the undici, Node and
// native work it calls (EventEmitter, timers, prom-client...) as well as its own; shares are of
// the busy samples (idle, program and GC left out).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    match: { type: 'string' },
    attribute: { type: 'string' },
  },
});
const top = Number(values.top);

/** Self time in µs per node id, from the sample list and time deltas. */
function selfTimes(profile) {
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return self;
}

function shortUrl(url) {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const work = url.indexOf('/dist/');
  if (work >= 0) return `trellis${url.slice(work)}`;
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/');
}

const NOT_BUSY = new Set(['(idle)', '(program)', '(garbage collector)']);

/**
 * Sampled time charged to the innermost frame whose location contains `part`, by function, and the
 * total busy time; samples with no such frame on their stack are charged to nothing.
 */
function attributed(profile, self, part) {
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const charged = new Map();
  let busy = 0;
  for (const [id, us] of self) {
    let node = byId.get(id);
    if (NOT_BUSY.has(node.callFrame.functionName)) continue;
    busy += us;
    while (node && !shortUrl(node.callFrame.url).includes(part)) node = parent.get(node.id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    charged.set(key, (charged.get(key) ?? 0) + us);
  }
  return { charged, busy };
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const self = selfTimes(profile);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byFile = new Map();
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = shortUrl(url);
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byFile.set(where, (byFile.get(where) ?? 0) + us);
  }
  const print = (title, map, of = total) => {
    console.log(`\n${title}`);
    const entries = [...map].filter(([k]) => !values.match || k.includes(values.match));
    for (const [k, us] of entries.sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((100 * us) / of).toFixed(2).padStart(6)}%  ${k}`);
    }
  };
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
  print('self time by function', byFunction);
  print('self time by file', byFile);
  if (values.attribute) {
    const { charged, busy } = attributed(profile, self, values.attribute);
    const sum = [...charged.values()].reduce((a, b) => a + b, 0);
    print(
      `busy time charged to the innermost '${values.attribute}' frame (${((100 * sum) / busy).toFixed(1)}% of busy samples have one)`,
      charged,
      busy,
    );
  }
}
