import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLibrary } from '../support/compiled.js';
import { fixture, runScript } from '../support/processes.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let users: Upstream;
let outsider: Upstream;
let library: ReturnType<typeof compileLibrary>;

beforeAll(async () => {
  library = compileLibrary();
  [users, outsider] = (await startUpstreams('users-1', 'outsider')) as [Upstream, Upstream];
});

afterAll(async () => {
  library?.remove();
  await Promise.all([users?.stop(), outsider?.stop()]);
});

// Runs in a child process (on whatever Node runs the suite: 20 here, 24 in CI) so that the global
// dispatcher it installs cannot leak into other tests.
describe("setGlobalDispatcher(mesh.dispatcher()) with Node's built-in fetch", () => {
  it('routes mesh hosts through the mesh, passes other hosts through, streams, aborts, and lets the process exit', async () => {
    const result = await runScript(
      fixture('global-fetch.mjs'),
      [library.dir, users.address, outsider.address],
      15_000,
    );
    expect(result.stderr).toBe('');
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
    const seen = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(seen).toEqual({
      node: process.version,
      meshed: { name: 'users-1', body: 'via-global', host: 'users' },
      outside: { name: 'outsider', host: outsider.address },
      streamed: 'chunk-0\nchunk-1\nchunk-2\n',
      aborted: 'AbortError',
      abortedMidBody: 'AbortError',
    });
  });
});
