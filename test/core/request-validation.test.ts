import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import {
  ErrorCode,
  findTrellisError,
  isTrellisError,
  Mesh,
  type MeshRequestOptions,
} from '../../src/index.js';
import { type Recorder, startRecorder } from '../support/recorder.js';

let recorder: Recorder;
let mesh: Mesh;

beforeAll(async () => {
  recorder = await startRecorder('answer');
  mesh = Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints([recorder.address])))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await recorder?.stop();
});

/** The problems of a refused call; fails the test if the call was not refused as invalid. */
async function refused(options: Record<string, unknown>): Promise<readonly string[]> {
  const err = await mesh.request(options as unknown as MeshRequestOptions).then(
    (res) => {
      res.body.destroy();
      throw new Error(`expected ${JSON.stringify(options)} to be refused, got ${res.statusCode}`);
    },
    (e: unknown) => e,
  );
  if (!isTrellisError(err, ErrorCode.InvalidRequest)) throw err;
  // Typed per code: problems is a readonly string[] without a cast.
  for (const problem of err.details.problems) expect(err.message).toContain(problem);
  return err.details.problems;
}

describe('mesh.request() checks its options before anything is sent', () => {
  it('refuses a negative, NaN or string timeout, naming the field and what to write', async () => {
    expect((await refused({ service: 'users', path: '/', timeout: -5 }))[0]).toMatch(
      /^timeout must be a number of milliseconds > 0 .*got -5$/,
    );
    expect((await refused({ service: 'users', path: '/', timeout: Number.NaN }))[0]).toMatch(/got NaN/);
    expect((await refused({ service: 'users', path: '/', timeout: '100' }))[0]).toMatch(
      /got '100' \(a string\): write timeout: 100$/,
    );
  });

  it("refuses a deadline on the wall clock (Date.now() + 100) and says to use performance.now()'s", async () => {
    const [problem] = await refused({ service: 'users', path: '/', deadline: Date.now() + 100 });
    expect(problem).toMatch(/wall clock \(Date\.now\(\)\).*performance\.now\(\) \+ ms, or timeout: ms/);
    expect((await refused({ service: 'users', path: '/', deadline: Number.NaN }))[0]).toMatch(
      /deadline must be a performance\.now\(\) time/,
    );
  });

  it("refuses a lower-case method with the upper-case spelling to write (it went out as 'post /x')", async () => {
    expect(await refused({ service: 'users', method: 'post', path: '/x' })).toEqual([
      "method 'post' must be written in upper case: write method: 'POST'",
    ]);
    expect((await refused({ service: 'users', method: 'GE T', path: '/x' }))[0]).toMatch(/HTTP method/);
  });

  it('refuses a path without a leading slash, and an absolute URL as path', async () => {
    expect(await refused({ service: 'users', path: 'x' })).toEqual([
      "path 'x' must start with '/': write path: '/x'",
    ]);
    const [absolute] = await refused({ service: 'users', path: 'http://evil.example/x?y=1' });
    expect(absolute).toMatch(/is a URL.*give the path alone \(path: '\/x\?y=1'\)/);
  });

  it('refuses unknown option keys, suggesting the near one and listing the known keys', async () => {
    const [problem] = await refused({ service: 'users', path: '/', timout: 100 });
    expect(problem).toBe(
      "unknown option 'timout' (did you mean 'timeout'?); known options: service, method, path, headers, " +
        'body, signal, deadline, timeout, idempotent, route',
    );
  });

  it('lists every problem of one call at once, and none of the refused calls reached the upstream', async () => {
    const problems = await refused({ service: 'users', method: 'get', path: 'x', timeout: -1, retries: 2 });
    expect(problems).toHaveLength(4);
    const ok = await mesh.request({ service: 'users', method: 'PURGE', path: '/ok', timeout: 5000 });
    await ok.body.dump();
    expect(ok.statusCode).toBe(200);
    const seen = await recorder.recorded();
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['PURGE /ok']);
  });
});

describe('the dispatcher front-end checks method and path for mesh hosts', () => {
  it("refuses a lower-case method and a path without '/' from undici's dispatcher.request()", async () => {
    const dispatcher = mesh.dispatcher();
    const lower = await request('http://users/', { dispatcher, method: 'patch' as 'PATCH' }).catch((e) => e);
    expect(findTrellisError(lower, ErrorCode.InvalidRequest)?.details.problems).toEqual([
      "method 'patch' must be written in upper case: write method: 'PATCH'",
    ]);
    const noSlash = await dispatcher
      .request({ origin: 'http://users', path: 'x', method: 'GET' })
      .catch((e: unknown) => e);
    expect(findTrellisError(noSlash, ErrorCode.InvalidRequest)?.details.problems).toEqual([
      "path 'x' must start with '/': write path: '/x'",
    ]);
  });

  it("through fetch, the TrellisError is found in the TypeError's cause", async () => {
    const err = await mesh.fetch('http://users/x', { method: 'patch' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(isTrellisError(err)).toBe(false);
    const found = findTrellisError(err, ErrorCode.InvalidRequest);
    expect(found?.details.service).toBe('users');
    expect(findTrellisError(err, ErrorCode.NoEndpoints)).toBeUndefined();
    expect(findTrellisError(new Error('plain'))).toBeUndefined();
  });
});

describe('a typo in a logical host through fetch', () => {
  it("says 'did you mean' when a pass-through host fails DNS and is one typo away from a mesh service", async () => {
    const err = await mesh
      .fetch('http://user/x', { signal: AbortSignal.timeout(10_000) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    const found = findTrellisError(err, ErrorCode.UnknownService);
    expect(found?.message).toMatch(
      /^'user' is not a mesh service and DNS could not resolve it .*did you mean the mesh service 'users'\?/,
    );
    expect(found?.details.suggestion).toBe('users');
    expect((found?.cause as { code?: string } | undefined)?.code).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it('leaves a DNS failure for a host unlike any service as it was', async () => {
    const err = await mesh
      .fetch('http://nothing-like-it/x', { signal: AbortSignal.timeout(10_000) })
      .catch((e) => e);
    expect(findTrellisError(err)).toBeUndefined();
    expect(((err as Error).cause as { code?: string }).code).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });
});
