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
