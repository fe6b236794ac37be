import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLibrary } from '../support/compiled.js';
import { fixture, runScript } from '../support/processes.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

let users: Upstream;
let library: ReturnType<typeof compileLibrary>;

beforeAll(async () => {
  library = compileLibrary();
  users = await startUpstream('users-1');
});

afterAll(async () => {
  library?.remove();
  await users?.stop();
});

// In a child process: before the fix, the exception became an unhandled rejection that killed it.
describe('a handler callback that throws, on a mesh route', () => {
  it("goes to the same handler's error callback, as undici does, and the process lives on", async () => {
    const result = await runScript(fixture('handler-throws.mjs'), [library.dir, users.address], 15_000);
    expect(result.stderr).toBe('');
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      // undici's retry interceptor retried twice, then gave up with its own error.
      retried: 'RequestRetryError UND_ERR_REQ_RETRY 503',
      fromStart: ['start', 'response', 'error: thrown in onResponseStart'],
      fromData: ['start', 'response', 'data', 'error: thrown in onResponseData'],
      afterwards: 'users-1',
    });
  });
});
