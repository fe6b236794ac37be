import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EtcdClient } from '../../src/discovery/etcd/etcd-client.js';
import { registerEndpoint } from '../../src/discovery/etcd/registration.js';
import { type CliRun, runCli } from '../support/cli-process.js';
import { compileLibrary } from '../support/compiled.js';
import { type EtcdServer, startEtcd } from '../support/etcd.js';
import { describeWithBinaries, ETCD } from '../support/system-binary.js';
import { until } from '../support/until.js';

// split, rules and endpoints --etcd as a user runs them: the compiled `trellis` command in its own
// process, against a real etcd. test/cli/cli.test.ts covers what the commands do in depth,
// in-process; this file checks the command lines, exit codes and output of the real command.
let lib: { dir: string; remove(): void };
let etcd: EtcdServer;
let client: EtcdClient;
let scratch: string;

const trellis = (...args: string[]): CliRun => runCli(lib.dir, [...args, '--etcd', etcd.url]);

describeWithBinaries([ETCD], 'the trellis command in its own process, against a real etcd', () => {
  beforeAll(async () => {
    lib = compileLibrary();
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: [etcd.url] });
    scratch = mkdtempSync(join(tmpdir(), 'trellis-cli-etcd-'));
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await etcd?.destroy();
    lib?.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('split set stores the split and prints it; split show reads it back', async () => {
    const set = trellis('split', 'set', 'users', 'users=90', 'users-v2=10');
    expect(await set.exited).toBe(0);
    expect(set.stdout).toMatch(/users-v2\s+10\s+10\.0%/);
    const show = trellis('split', 'show', 'users');
    expect(await show.exited).toBe(0);
    expect(show.stdout).toMatch(/users\s+90\s+90\.0%\nusers-v2\s+10\s+10\.0%/);
    expect(show.stderr).toBe('');
  });

  it('rules check and rules set validate a file; set stores it and rules show prints it', async () => {
    const file = join(scratch, 'rules.yaml');
    writeFileSync(
      file,
      'services:\n  orders:\n    routes:\n      - { split: [{ backend: orders, weight: 1 }] }\n',
    );
    const check = trellis('rules', 'check', file);
    expect(await check.exited).toBe(0);
    expect(check.stdout).toContain(`${file}: valid (1 service(s))`);
    const set = trellis('rules', 'set', file);
    expect(await set.exited).toBe(0);
    expect(set.stdout).toContain(`${file}: valid (1 service(s)), stored in /trellis/routes`);
    const show = trellis('rules', 'show', '--json');
    expect(await show.exited).toBe(0);
    expect(JSON.parse(show.stdout).services.orders.routes[0].split).toEqual([
      { backend: 'orders', weight: 1 },
    ]);
  });

  it('rules set refuses an invalid file with its problems and exit code 1', async () => {
    const file = join(scratch, 'bad.yaml');
    writeFileSync(
      file,
      'services:\n  users:\n    routes:\n      - { backend: users, fault: { abort: { percent: 300 } } }\n',
    );
    const set = trellis('rules', 'set', file);
    expect(await set.exited).toBe(1);
    expect(set.stderr).toMatch(/fault\.abort: percent must be a number from 0 to 100/);
  });

  it('endpoints --etcd lists the registered endpoints, and --watch prints a new one until SIGINT', async () => {
    const first = await registerEndpoint({
      etcd: client,
      service: 'api',
      endpoint: { host: '127.0.0.1', port: 7101 },
    });
    const once = trellis('endpoints', 'api');
    expect(await once.exited).toBe(0);
    expect(once.stdout).toContain('127.0.0.1:7101');
    const watch = trellis('endpoints', 'api', '--watch');
    await until(() => watch.stdout.includes('127.0.0.1:7101'), 'the first table');
    const second = await registerEndpoint({
      etcd: client,
      service: 'api',
      endpoint: { host: '127.0.0.1', port: 7102 },
    });
    await until(() => watch.stdout.includes('127.0.0.1:7102'), 'the table with the new endpoint');
    process.kill(watch.child.pid!, 'SIGINT');
    expect(await watch.exited).toBe(0);
    await Promise.all([first.close(), second.close()]);
  });
});
