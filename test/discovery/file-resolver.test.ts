import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { fileEndpoints } from '../../src/discovery/file/file-resolver.js';
import { runResolver, until } from '../support/discovery.js';

const FAST = { debounceMs: 20, emptySetGraceMs: 300 };

describe('file resolver', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-file-'));
    file = join(dir, 'endpoints.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Replaces the file atomically, as deployment tools do. */
  async function publish(content: unknown): Promise<void> {
    const temp = join(dir, `.tmp-${Math.random()}`);
    await writeFile(temp, typeof content === 'string' ? content : JSON.stringify(content));
    await rename(temp, file);
  }

  it('publishes the entry for the service, with weight, zone and metadata', async () => {
    await publish({
      services: {
        api: ['127.0.0.1:3001', { host: '::1', port: 3002, weight: 3, zone: 'b', metadata: { v: '2' } }],
        other: ['127.0.0.1:4000'],
      },
    });
    const run = runResolver(fileEndpoints(file, { updates: FAST }));
    await until(() => run.applied.length === 1, 'the first set');
    expect(run.applied[0]).toEqual([
      expect.objectContaining({ id: '127.0.0.1:3001', weight: 1 }),
      expect.objectContaining({ id: '[::1]:3002', weight: 3, zone: 'b', metadata: { v: '2' } }),
    ]);
    await run.close();
  });

  it('follows changes, including atomic replacement and in-place writes', async () => {
    await publish(['127.0.0.1:3001']);
    const run = runResolver(fileEndpoints(file, { updates: FAST }));
    await until(() => run.applied.length === 1, 'the first set');
    await publish(['127.0.0.1:3001', '127.0.0.1:3002']);
    await until(() => run.current().length === 2, 'the renamed file');
    await writeFile(file, JSON.stringify(['127.0.0.1:3003']));
    await until(() => run.current()[0] === '127.0.0.1:3003', 'the rewritten file');
    await run.close();
  });

  it('keeps the last good set when the file turns malformed or disappears, and says why', async () => {
    await publish(['127.0.0.1:3001']);
    const run = runResolver(fileEndpoints(file, { updates: FAST }));
    await until(() => run.applied.length === 1, 'the first set');
    await publish('{"services": {"api": ["127.0.0.1:3001",');
    await until(() => run.errors.length >= 1, 'a parse error');
    expect(isTrellisError(run.errors[0], ErrorCode.InvalidDiscoveryData)).toBe(true);
    expect(run.errors[0]!.message).toMatch(/not valid JSON.*last good set stays/);
    await publish({ services: { api: ['127.0.0.1:70000'] } });
    await until(() => run.errors.some((e) => /endpoint #1/.test(e.message)), 'a bad endpoint error');
    await rm(file);
    await until(() => run.errors.some((e) => /Cannot read endpoint file/.test(e.message)), 'a read error');
    expect(run.applied).toHaveLength(1);
    expect(run.current()).toEqual(['127.0.0.1:3001']);
    await publish(['127.0.0.1:3009']);
    await until(() => run.current()[0] === '127.0.0.1:3009', 'recovery');
    await run.close();
  });

  it('holds back an emptied file for the grace period, then applies it', async () => {
    await publish(['127.0.0.1:3001']);
    const run = runResolver(fileEndpoints(file, { updates: FAST }));
    await until(() => run.applied.length === 1, 'the first set');
    await publish([]);
    await until(() => run.guard.holdingEmptySet, 'the hold');
    expect(run.current()).toEqual(['127.0.0.1:3001']);
    expect(run.errors.some((e) => isTrellisError(e, ErrorCode.NoEndpoints))).toBe(true);
    await until(() => run.applied.length === 2, 'the grace to end');
    expect(run.current()).toEqual([]);
    await run.close();
  });

  it('reports a file that starts out missing, and picks it up when it appears', async () => {
    const run = runResolver(fileEndpoints(file, { updates: FAST }));
    await until(() => run.errors.length === 1, 'the missing-file error');
    await publish(['127.0.0.1:3001']);
    await until(() => run.applied.length === 1, 'the file to be picked up');
    await run.close();
  });

  it('stops watching on close', async () => {
    await publish(['127.0.0.1:3001']);
    const run = runResolver(fileEndpoints(file, { updates: FAST, pollMs: 50 }));
    await until(() => run.applied.length === 1, 'the first set');
    await run.close();
    await publish(['127.0.0.1:3002']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(run.applied).toHaveLength(1);
  });

  it('rejects invalid options at build time', () => {
    expect(fileEndpoints('', { pollMs: -1, updates: { debounceMs: -5 } }).validate?.()).toHaveLength(3);
  });
});
