// Run inside a project that has installed the trellis tarball: imports every subpath that the
// installed package.json exports (so a subpath added later, such as trellis/resilience, is
// covered without editing this file), checks that each one's type declarations were packed, and
// that every source map points at sources that were packed too (debuggers and bundlers read them).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(join(process.cwd(), 'package.json'));
const root = dirname(require.resolve('trellis/package.json'));
const { exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const problems = [];
for (const [subpath, target] of Object.entries(exports)) {
  if (subpath === './package.json') continue;
  const specifier = subpath === '.' ? 'trellis' : `trellis/${subpath.slice(2)}`;
  try {
    const module = await import(specifier);
    if (Object.keys(module).length === 0) problems.push(`${specifier} exports nothing`);
    else console.log(`ok ${specifier}: ${Object.keys(module).length} exports`);
  } catch (err) {
    problems.push(`${specifier} cannot be imported: ${err.message}`);
  }
  if (typeof target === 'object' && target.types && !existsSync(join(root, target.types))) {
    problems.push(`${specifier}: its types file ${target.types} is missing from the tarball`);
  }
}
const maps = readdirSync(join(root, 'dist'), { recursive: true }).filter((f) => f.endsWith('.js.map'));
for (const map of maps) {
  const { sources } = JSON.parse(readFileSync(join(root, 'dist', map), 'utf8'));
  for (const source of sources) {
    if (!existsSync(join(root, 'dist', dirname(map), source))) {
      problems.push(`dist/${map} points at ${source}, which is not in the tarball`);
    }
  }
}
console.log(`ok ${maps.length} source maps point at packed sources`);
if (problems.length > 0) {
  console.error(`The packed trellis is broken:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
