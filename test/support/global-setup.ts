import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLEANUP_LOG_ENV, sweepLog } from './cleanup.js';
import { COMPILED_LIBRARY_ENV, libraryScratch, transpileLibrary } from './compiled.js';
import { SKIP_LOG_ENV, type SystemBinary } from './system-binary.js';

// Vitest's globalSetup: test workers inherit two logs' paths through the environment. Each suite
// skipped for a missing binary appends a line to one, and teardown prints what was skipped; the
// other registers started processes and made folders, and teardown kills and removes what is left.
// The library that child processes import is transpiled here once for the run (it took a file's
// set-up hook past its limit on a loaded machine when each file made its own).
export function setup(): () => void {
  const library = libraryScratch();
  process.env[COMPILED_LIBRARY_ENV] = transpileLibrary(library);
  const dir = mkdtempSync(join(tmpdir(), 'trellis-skips-'));
  const log = join(dir, 'skips.jsonl');
  const cleanupLog = join(dir, 'cleanup.log');
  process.env[SKIP_LOG_ENV] = log;
  process.env[CLEANUP_LOG_ENV] = cleanupLog;
  return () => {
    rmSync(library, { recursive: true, force: true });
    sweepLog(cleanupLog);
    let lines: string[] = [];
    try {
      lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      // nothing was skipped
    }
    rmSync(dir, { recursive: true, force: true });
    if (lines.length === 0) return;
    const byBinary = new Map<string, { install: string; suites: string[] }>();
    for (const line of lines) {
      const { title, missing } = JSON.parse(line) as { title: string; missing: SystemBinary[] };
      for (const b of missing) {
        const entry = byBinary.get(b.name) ?? { install: b.install, suites: [] };
        entry.suites.push(title);
        byBinary.set(b.name, entry);
      }
    }
    const out = [`\nSkipped ${lines.length} suite(s) because a system binary is missing:`];
    for (const [name, { install, suites }] of byBinary) {
      out.push(`  ${name} (${install}): ${suites.length} suite(s)`);
      for (const s of suites) out.push(`    - ${s}`);
    }
    out.push(
      'Install them to run everything; CI=true or TRELLIS_REQUIRE_ALL=1 turns these skips into failures.\n',
    );
    process.stdout.write(`${out.join('\n')}\n`);
  };
}
