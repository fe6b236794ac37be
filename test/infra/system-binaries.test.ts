import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWithBinaries, ETCD, everyBinaryRequired, onPath } from '../support/system-binary.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = 'test/fixtures/infra/vitest.config.ts';
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'trellis-infra-test-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs one fixture suite in its own Vitest process (bounded at 60 s) and returns what it printed. */
async function runSuite(suite: string, env: Record<string, string | undefined>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TRELLIS_FIXTURE_SUITE: suite, ...env };
  for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
  const child = spawn(process.execPath, [VITEST, 'run', '--config', CONFIG], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

/** Whether `pid` runs; a zombie (dead, but not reaped when this container's PID 1 does not reap) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('suites that need a system binary (a child Vitest run per case)', () => {
  it('finds executables on PATH and only there', () => {
    expect(onPath('node')).toBe(true);
    expect(onPath('node', '/nonexistent')).toBe(false);
    expect(onPath('trellis-no-such-binary')).toBe(false);
  });

  it('requires every binary when CI=true or TRELLIS_REQUIRE_ALL=1, and not otherwise', () => {
    expect(everyBinaryRequired({ CI: 'true' })).toBe(true);
    expect(everyBinaryRequired({ TRELLIS_REQUIRE_ALL: '1' })).toBe(true);
    expect(everyBinaryRequired({})).toBe(false);
    expect(everyBinaryRequired({ CI: 'false', TRELLIS_REQUIRE_ALL: '0' })).toBe(false);
  });

  it('locally, skip with one line naming the binary and its install command, and a summary at the end', async () => {
    const { code, output } = await runSuite('missing-binary', {
      CI: undefined,
      TRELLIS_REQUIRE_ALL: undefined,
    });
    expect(code).toBe(0);
    const skipLines = output.split('\n').filter((l) => l.startsWith('skip: '));
    expect(skipLines).toEqual([
      'skip: "a suite needing a binary nobody has" needs trellis-no-such-binary (install: apt-get install trellis-no-such-package): not found on PATH',
    ]);
    expect(output).toContain('Skipped 1 suite(s) because a system binary is missing:');
    expect(output).toContain('trellis-no-such-binary (apt-get install trellis-no-such-package): 1 suite(s)');
  });

  it.each([
    { CI: 'true', TRELLIS_REQUIRE_ALL: undefined },
    { CI: undefined, TRELLIS_REQUIRE_ALL: '1' },
  ])('fail instead of skipping with %o', async (env) => {
    const { code, output } = await runSuite('missing-binary', env);
    expect(code).toBe(1);
    expect(output).toContain(
      'needs trellis-no-such-binary (install: apt-get install trellis-no-such-package)',
    );
    expect(output).toContain('required because CI=true or TRELLIS_REQUIRE_ALL=1');
    expect(output).not.toContain('Skipped 1 suite(s)');
  });
});

describeWithBinaries([ETCD], 'a failing run leaks nothing (real etcd, real upstream process)', () => {
  it('kills the processes and removes the folders a suite made when its set-up throws', async () => {
    const record = join(scratch, 'leak.json');
    const { code, output } = await runSuite('failing-etcd', { TRELLIS_LEAK_RECORD: record });
    expect(code, output).toBe(1);
    expect(output).toContain('set-up failed on purpose');
    const { etcdUrl, etcdDataDir, upstreamPid } = JSON.parse(readFileSync(record, 'utf8')) as {
      etcdUrl: string;
      etcdDataDir: string;
      upstreamPid: number;
    };
    expect(alive(upstreamPid)).toBe(false);
    await expect(fetch(`${etcdUrl}/health`)).rejects.toThrow();
    expect(existsSync(etcdDataDir)).toBe(false);
  });
});
