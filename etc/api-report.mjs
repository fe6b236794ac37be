// The public API reports in etc/api/: one per entry point of package.json "exports", written by
// API Extractor from the declarations tsc emits for src/ (into .tmp/api/dts, not dist/, so a
// stale build cannot hide a change).
//
//   node etc/api-report.mjs --check    fails when a report differs from the code (CI)
//   node etc/api-report.mjs --update   rewrites the reports from the code (then review the diff)
//
// Either way any warning (a type used by the API but not exported, a broken TSDoc comment) fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
if (mode !== '--check' && mode !== '--update') {
  console.error('usage: node etc/api-report.mjs --check | --update');
  process.exit(2);
}
const update = mode === '--update';
const dts = join(root, '.tmp/api/dts');
const reports = join(root, 'etc/api');

rmSync(dts, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules/typescript/bin/tsc'),
    ...['-p', 'tsconfig.build.json', '--outDir', dts, '--emitDeclarationOnly'],
    ...['--sourceMap', 'false', '--declarationMap', 'false'],
  ],
  { cwd: root, stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const packageJson = join(root, 'package.json');
const { exports } = JSON.parse(readFileSync(packageJson, 'utf8'));
const entries = Object.entries(exports).filter(([, target]) => typeof target === 'object' && target.types);
// "./dist/balancers/index.d.ts" -> .tmp/api/dts/balancers/index.d.ts
const entryFile = (target) => join(dts, target.types.replace(/^\.\/dist\//, ''));

// API Extractor reads one entry point at a time, so a type or a {@link} that a sibling entry
// point exports (trellis/resilience's layers use trellis's Layer) looks unexported to it. Such
// names are public all the same: collect every entry point's exports to let those through.
const program = ts.createProgram(
  entries.map(([, target]) => entryFile(target)),
  {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    skipLibCheck: true,
  },
);
const checker = program.getTypeChecker();
const exported = new Set();
for (const [, target] of entries) {
  const module = checker.getSymbolAtLocation(program.getSourceFile(entryFile(target)));
  for (const symbol of checker.getExportsOfModule(module)) exported.add(symbol.name);
}
const sibling = (message) => {
  const name =
    message.messageId === 'ae-forgotten-export'
      ? /The symbol "([^"]+)"/.exec(message.text)?.[1]
      : message.messageId === 'ae-unresolved-link'
        ? /does not have an export "([^"]+)"/.exec(message.text)?.[1]
        : undefined;
  return name !== undefined && exported.has(name);
};

const configFile = join(root, 'etc/api-extractor.json');
const REPORT_WRITTEN = new Set(['console-api-report-copied', 'console-api-report-created']);
const problems = [];
const written = new Set();
for (const [subpath, target] of entries) {
  // "." -> trellis.api.md, "./balancers" -> trellis-balancers.api.md.
  const entry = entryFile(target);
  const name = subpath === '.' ? 'trellis' : `trellis-${subpath.slice(2).replaceAll('/', '-')}`;
  written.add(`${name}.api.md`);
  const configObject = ExtractorConfig.loadFile(configFile);
  configObject.mainEntryPointFilePath = entry;
  configObject.apiReport.reportFileName = name;
  const config = ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: configFile,
    packageJsonFullPath: packageJson,
  });
  const result = Extractor.invoke(config, {
    localBuild: update,
    messageCallback: (message) => {
      if (sibling(message)) message.logLevel = 'none';
      // --update writing a changed or new report is what it is for, not a problem.
      if (update && REPORT_WRITTEN.has(message.messageId)) message.logLevel = 'info';
      // --check: a report that differs is listed below, by entry point.
      if (!update && message.messageId === 'console-api-report-not-copied') message.logLevel = 'info';
    },
  });
  const label = subpath === '.' ? 'trellis' : `trellis/${subpath.slice(2)}`;
  if (result.errorCount + result.warningCount > 0) {
    problems.push(`${label}: ${result.errorCount} errors, ${result.warningCount} warnings (above)`);
  } else if (!update && result.apiReportChanged) {
    problems.push(
      `${label}: the API differs from etc/api/${name}.api.md (the code's: .tmp/api/report/${name}.api.md)`,
    );
  }
}
// A report whose entry point is gone is stale.
for (const file of existsSync(reports) ? readdirSync(reports) : []) {
  if (!file.endsWith('.api.md') || written.has(file)) continue;
  if (update) unlinkSync(join(reports, file));
  else problems.push(`etc/api/${file} has no entry point in package.json "exports"`);
}
if (problems.length > 0) {
  console.error(`\nPublic API report problems:\n  - ${problems.join('\n  - ')}`);
  if (!update)
    console.error('If the change is intended, run `npm run api:update` and commit etc/api/ with it.');
  process.exit(1);
}
console.log(update ? 'API reports updated in etc/api/' : 'API reports match the code');
