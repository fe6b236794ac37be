import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The environment variable through which test workers find the run's compiled library. */
export const COMPILED_LIBRARY_ENV = 'TRELLIS_COMPILED_LIBRARY';

/**
 * Transpiles `src/` (types stripped, no type check) into `<scratch>/src/`, laid out as in the
 * package: a `package.json` of `{"type":"module"}` beside the output, and one with the real
 * version above it, for code that reads ../../package.json (the CLI).
 */
export function transpileLibrary(scratch: string): string {
  const dir = join(scratch, 'src');
  const src = join(ROOT, 'src');
  for (const file of sources(src)) {
    const out = join(dir, relative(src, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(scratch, 'package.json'), `${JSON.stringify({ type: 'module', version })}\n`);
  return dir;
}

/** A scratch folder for a compiled library, inside the repository so dependencies resolve. */
export function libraryScratch(): string {
  return join(ROOT, '.tmp', `trellis-${process.pid}-${Date.now()}`);
}

/**
 * The library compiled for child processes to import without a build step: the one the run's
 * global set-up compiled once (test/support/global-setup.ts), or, outside such a run, a fresh
 * transpile. The folder sits inside the repository, so `undici` and the other dependencies
 * resolve from its node_modules. `remove()` deletes only a folder made here.
 */
export function compileLibrary(): { dir: string; remove(): void } {
  const shared = process.env[COMPILED_LIBRARY_ENV];
  if (shared !== undefined) return { dir: shared, remove: () => {} };
  const scratch = libraryScratch();
  return { dir: transpileLibrary(scratch), remove: () => rmSync(scratch, { recursive: true, force: true }) };
}

/**
 * A folder laid out like an app that installed trellis: `import 'trellis'` (and each subpath the
 * package exports) from a script put in it resolves to the compiled library in `libDir`, through
 * `node_modules/trellis` with the package's own exports map. Its `package.json` has no name, so
 * the repository's own (named trellis, exporting dist/) is not used by self-reference. The folder
 * sits inside the repository, so the scripts' other imports resolve from its node_modules.
 */
export function installedPackage(libDir: string): { dir: string; remove(): void } {
  const dir = join(ROOT, '.tmp', `app-${process.pid}-${Date.now()}`);
  const pkg = join(dir, 'node_modules', 'trellis');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module","private":true}\n');
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    exports: Record<string, string | { import: string }>;
  };
  const exports = Object.fromEntries(
    Object.entries(manifest.exports)
      .filter(([, target]) => typeof target !== 'string')
      .map(([path, target]) => [path, (target as { import: string }).import.replace('./dist/', './lib/')]),
  );
  writeFileSync(
    join(pkg, 'package.json'),
    `${JSON.stringify({ name: 'trellis', version: manifest.version, type: 'module', exports })}\n`,
  );
  symlinkSync(libDir, join(pkg, 'lib'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
