import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Transpiles `src/` (types stripped, no type check) into a scratch folder under `.tmp/`, so child
 * processes can import the library without a build step. The folder sits inside the repository,
 * so `undici` and the other dependencies resolve from its node_modules. Returns the folder and a
 * function that removes it.
 */
export function compileLibrary(options: { withPackageJson?: boolean } = {}): { dir: string; remove(): void } {
  const scratch = join(ROOT, '.tmp', `trellis-${process.pid}-${Date.now()}`);
  // With `withPackageJson`, the output sits in <scratch>/src/ under a package.json that carries
  // the real version, laid out as in the package, for code that reads ../../package.json (the CLI).
  const dir = options.withPackageJson ? join(scratch, 'src') : scratch;
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
  if (options.withPackageJson) {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    writeFileSync(join(scratch, 'package.json'), `${JSON.stringify({ type: 'module', version })}\n`);
  }
  return { dir, remove: () => rmSync(scratch, { recursive: true, force: true }) };
}
