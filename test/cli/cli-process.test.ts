import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from '../support/cli-process.js';
import { compileLibrary } from '../support/compiled.js';
import { freePort } from '../support/ports.js';
import { until } from '../support/until.js';

// The `trellis` command as a user runs it: `node cli/main.js ...` in its own process.
let lib: { dir: string; remove(): void };
let scratch: string;

beforeAll(() => {
  lib = compileLibrary();
  scratch = mkdtempSync(join(tmpdir(), 'trellis-cli-process-'));
});

afterAll(() => {
  lib?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const trellis = (...args: string[]): CliRun => runCli(lib.dir, args);

async function stillRunningAfter(cli: CliRun, ms: number): Promise<boolean> {
  const exited = await Promise.race([
    cli.exited.then(() => true),
    new Promise((r) => setTimeout(() => r(false), ms)),
  ]);
  return !exited;
}

describe('the trellis command in its own process', () => {
  it('--version prints the package version and exits 0', async () => {
    const cli = trellis('--version');
    expect(await cli.exited).toBe(0);
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(cli.stdout.trim()).toBe(version);
  });

  it('-v is --version', async () => {
    const cli = trellis('-v');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rules check on a missing file names the file and what to check, not a bare ENOENT', async () => {
    const missing = join(scratch, 'missing-rules.yaml');
    const cli = trellis('rules', 'check', missing);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toBe(
      `trellis: cannot read the rules file '${missing}' (ENOENT): check the path and its permissions.\n`,
    );
  });

  it('rules check on an invalid file lists its problems and exits 1; a valid one exits 0', async () => {
    const bad = join(scratch, 'bad-rules.yaml');
    writeFileSync(bad, 'services:\n  users:\n    routes:\n      - { backend: users, weight: -1 }\n');
    const refused = trellis('rules', 'check', bad);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr).toContain('bad-rules.yaml');
    const good = join(scratch, 'rules.yaml');
    writeFileSync(good, 'services:\n  users:\n    routes:\n      - { backend: users }\n');
    const valid = trellis('rules', 'check', good);
    expect(await valid.exited).toBe(0);
    expect(valid.stdout).toContain('rules.yaml: valid (1 service(s))');
  });

  it('split show with no etcd listening names the address and says to check that etcd runs', async () => {
    const port = await freePort();
    const cli = trellis('split', 'show', 'users', '--etcd', `http://127.0.0.1:${port}`);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toContain(`(http://127.0.0.1:${port}): connect ECONNREFUSED`);
    expect(cli.stderr).toContain('that etcd is running');
  });

  it('endpoints --etcd with no etcd listening says so once, with the address and what to check', async () => {
    const port = await freePort();
    const cli = trellis('endpoints', 'users', '--etcd', `http://127.0.0.1:${port}`);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toBe(
      `trellis: etcd(/trellis/services/): No etcd member could be reached (http://127.0.0.1:${port}): ` +
        `connect ECONNREFUSED 127.0.0.1:${port}. Check the endpoints and that etcd is running.\n`,
    );
  });

  it('split set with a malformed weight says what is wrong, prints the usage and exits 2', async () => {
    const cli = trellis('split', 'set', 'users', 'users-v2:10');
    expect(await cli.exited).toBe(2);
    expect(cli.stderr).toMatch(/'users-v2:10' is not <backend>=<weight>[\s\S]*Usage: trellis/);
  });

  it('--help prints the usage and exits 0; an unknown command prints it and exits 2', async () => {
    const help = trellis('--help');
    expect(await help.exited).toBe(0);
    expect(help.stdout).toContain('Usage: trellis <command>');
    expect(help.stdout).toContain('--version');
    const unknown = trellis('frobnicate');
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(unknown.stderr).toContain('Usage: trellis <command>');
  });

  it('endpoints --file --watch keeps watching: prints the first table, then each change, until SIGINT', async () => {
    const file = join(scratch, 'endpoints.json');
    writeFileSync(file, JSON.stringify({ services: { users: ['127.0.0.1:7001'] } }));
    const cli = trellis('endpoints', 'users', '--file', file, '--watch');
    await until(() => cli.stdout.includes('127.0.0.1:7001'), 'the first table');
    expect(await stillRunningAfter(cli, 1500)).toBe(true);
    writeFileSync(file, JSON.stringify({ services: { users: ['127.0.0.1:7001', '127.0.0.1:7002'] } }));
    await until(() => cli.stdout.includes('127.0.0.1:7002'), 'the changed table');
    process.kill(cli.child.pid!, 'SIGINT');
    expect(await cli.exited).toBe(0);
    expect(cli.stderr).toBe('');
  });

  it('endpoints --static --watch keeps running after the table until SIGINT', async () => {
    const cli = trellis('endpoints', 'users', '--static', '127.0.0.1:7001,127.0.0.1:7002', '--watch');
    await until(() => cli.stdout.includes('127.0.0.1:7002'), 'the table');
    expect(await stillRunningAfter(cli, 1500)).toBe(true);
    process.kill(cli.child.pid!, 'SIGINT');
    expect(await cli.exited).toBe(0);
  });

  it('a one-shot endpoints prints the table and exits 0', async () => {
    const cli = trellis('endpoints', 'users', '--static', '127.0.0.1:7001', '--json');
    expect(await cli.exited).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject([{ host: '127.0.0.1', port: 7001 }]);
  });

  it('a one-shot endpoints on a missing file fails saying what to fix, without "the last good set stays in use"', async () => {
    const cli = trellis('endpoints', 'users', '--file', join(scratch, 'missing.json'));
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toContain('missing.json');
    expect(cli.stderr).toContain('Fix the path or permissions.');
    expect(cli.stderr).not.toMatch(/last good set/i);
  });

  it('endpoints --consul with no agent listening says it is unreachable and what to check', async () => {
    const port = await freePort();
    const cli = trellis('endpoints', 'users', '--consul', `http://127.0.0.1:${port}`);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toContain(`is unreachable (ECONNREFUSED`);
    expect(cli.stderr).toContain('check that it is running and the address is right');
  });
});
