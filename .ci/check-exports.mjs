// Run inside a project that has installed the trellis tarball: imports every subpath that the
// installed package.json exports (so a subpath added later, such as trellis/resilience, is
// covered without editing this file) and checks that each one's type declarations were packed.
import { existsSync, readFileSync } from 'node:fs';
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
if (problems.length > 0) {
  console.error(`The packed trellis is broken:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
