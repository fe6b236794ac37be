import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLibrary, installedPackage } from '../support/compiled.js';
import { runScript, type ScriptResult } from '../support/processes.js';

// `npm run demo` as a user runs it, in its own process, against the compiled package: the demo's
// files are copied into a folder where `import 'trellis'` resolves to the library as installed.
const DEMO = fileURLToPath(new URL('../../examples/demo/', import.meta.url));

let lib: { dir: string; remove(): void };
let app: { dir: string; remove(): void };
let script: string;

beforeAll(() => {
  lib = compileLibrary();
  app = installedPackage(lib.dir);
  cpSync(DEMO, join(app.dir, 'demo'), { recursive: true });
  script = join(app.dir, 'demo', 'run.mjs');
});

afterAll(() => {
  app?.remove();
  lib?.remove();
});

/** PIDs of running processes whose command line names `path` (the demo and its upstreams). */
function processesUnder(path: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path);
      } catch {
        return false; // it exited while we looked
      }
    })
    .map(Number);
}

describe('the demo', () => {
  it('colours only a terminal, and not when NO_COLOR is set', async () => {
    const { palette } = (await import(join(DEMO, 'colour.mjs'))) as {
      palette(out: { isTTY?: boolean }, env: Record<string, string>): { red(text: string): string };
    };
    expect(palette({ isTTY: true }, {}).red('x')).toBe('\x1b[31mx\x1b[0m');
    expect(palette({ isTTY: true }, { NO_COLOR: '1' }).red('x')).toBe('x');
    expect(palette({ isTTY: false }, {}).red('x')).toBe('x');
  });

  it('--help prints the usage and exits 0', async () => {
    const run = await runScript(script, ['--help'], 10_000);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run demo -- \[--seconds 20\]/);
    expect(run.stderr).toBe('');
  });

  it('refuses an unknown option with the usage and exit code 2, without a stack trace', async () => {
    const run = await runScript(script, ['--secs', '5'], 10_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--secs'");
    expect(run.stderr).toContain('usage: npm run demo');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  describe('a short run', () => {
    let run: ScriptResult;
    beforeAll(async () => {
      run = await runScript(script, ['--seconds', '6'], 30_000);
    }, 35_000);

    it('exits 0 on its own and leaves no process behind', () => {
      expect(run.timedOut).toBe(false);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(processesUnder(app.dir)).toEqual([]);
    });

    it('tells the story: the slow-down, the kill, an ejection, the new endpoint, the summary', () => {
      const out = run.stdout;
      expect(out).toContain('Columns:');
      expect(out).toContain('States:');
      expect(out).toContain('slows now answers in 60-80 ms');
      expect(out).toContain('steady2 killed (SIGKILL)');
      expect(out).toMatch(/\b\w+ ejected \([a-z-]+\) for \d+\.\d s/);
      expect(out).toMatch(/discovery: steady2 out, fresh \(127\.0\.0\.1:\d+\) in/);
      expect(out).toMatch(/Summary: \d+ requests in \d+\.\d s \(\d+ req\/s\), \d+\.\d\d% succeeded/);
      // The share table has a row per phase of the story, and fresh gets traffic once added.
      for (const phase of ['start', 'slows slowed', 'steady2 killed', 'fresh added'])
        expect(out).toMatch(new RegExp(`\\d s ${phase} `));
      expect(out).toMatch(/^fresh\s+[1-9]\d*\s/m);
      expect(out).toMatch(
        /What happened:\n {2}slows slowed: slows got \d+% of the attempts before, \d+% after\n/,
      );
      expect(out).toMatch(/ {2}steady2 killed: steady2 got \d+% of the attempts before, (\d+%|none) after\n/);
      expect(out).toMatch(/ {2}fresh added: fresh got none of the attempts before, \d+% after\n/);
    });

    it('fits 80 columns and writes no colour when its output is not a terminal', () => {
      const lines = run.stdout.split('\n');
      expect(lines.filter((line) => line.length > 80)).toEqual([]);
      expect(run.stdout).not.toContain('\x1b[');
    });
  });
});
