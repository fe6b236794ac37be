import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// On a machine without etcd, dnsmasq, Chromium or Prometheus, `npm test` must pass: a suite that
// starts one of them skips with one line (describeWithBinaries). A suite that starts one in a
// top-level hook instead fails there with 'spawn etcd ENOENT'; this finds such suites without
// needing a machine that lacks the binaries.
const TEST = fileURLToPath(new URL('..', import.meta.url));

/** What starts a system binary, by the helper or command a suite uses. */
const STARTS_A_BINARY = [/\bstartEtcd\(/, /\bstartDns\(/, /\bopenPage\(/, /'prometheus'/];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('suites that start a system binary', () => {
  it('all skip through describeWithBinaries when it is missing', () => {
    const unguarded = testFiles(TEST)
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return (
          STARTS_A_BINARY.some((pattern) => pattern.test(text)) && !text.includes('describeWithBinaries(')
        );
      })
      .map((file) => relative(TEST, file));
    expect(unguarded).toEqual([]);
  });
});
