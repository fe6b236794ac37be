import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, type Layer, Mesh } from '../../src/index.js';
import { compileLibrary } from '../support/compiled.js';
import { fixture, runScript } from '../support/processes.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let users: Upstream;
let library: ReturnType<typeof compileLibrary>;

beforeAll(async () => {
  library = compileLibrary();
  [users] = (await startUpstreams('users-1')) as [Upstream];
});

afterAll(async () => {
  library?.remove();
  await users?.stop();
});

function meshWith(closeTimeoutMs?: number, extra?: Layer): Mesh {
  const builder = Mesh.builder().service('users', (s) => {
    s.discovery(staticEndpoints([users.address]));
    if (extra) s.stack((st) => st.prepend(extra));
  });
  if (closeTimeoutMs !== undefined) builder.closeTimeout(closeTimeoutMs);
  return builder.build();
}

describe('mesh.close()', () => {
  it('lets a request in flight finish, body included, before it resolves', async () => {
    const mesh = meshWith();
    const inflight = mesh.request({ service: 'users', path: '/stream?n=3&ms=100' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    let closed = false;
    const closing = mesh.close().then(() => {
      closed = true;
    });
    const res = await inflight;
    const body = await res.body.text();
    expect(body).toBe('chunk-0\nchunk-1\nchunk-2\n');
    await closing;
    expect(closed).toBe(true);
  });

  it('cuts requests still running when the close timeout expires', async () => {
    const mesh = meshWith(100);
    // A POST, so that no retry layer repeats it once it has been cut: the cut itself is the point.
    const hanging = mesh.request({ service: 'users', method: 'POST', path: '/hang' }).then(
      () => 'answered',
      (err: unknown) => err,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await mesh.close();
    const outcome = await hanging;
    expect(isTrellisError(outcome, ErrorCode.UpstreamUnavailable)).toBe(true);
    expect((outcome as Error).message).toMatch(/connection pool closed.*closeTimeout/);
  });

  it('refuses new requests with TRELLIS_MESH_CLOSED on every front-end', async () => {
    const mesh = meshWith();
    const closing = mesh.close();
    await expect(mesh.request({ service: 'users', path: '/' })).rejects.toMatchObject({
      code: ErrorCode.MeshClosed,
      message: expect.stringMatching(/create a new one/),
    });
    await expect(mesh.fetch('http://users/')).rejects.toMatchObject({
      cause: { code: ErrorCode.MeshClosed },
    });
    await closing;
    expect(mesh.close()).toBe(closing);
  });

  it('reports TRELLIS_MESH_CLOSED, not a discovery problem, for a retry that comes due during close()', async () => {
    const mesh = meshWith();
    // The 503 comes back after close() has begun; the retry layer's next attempt finds the
    // service closing.
    const outcome = mesh.request({ service: 'users', path: '/status/503' }).then(
      (res) => `status ${res.statusCode}`,
      (err: unknown) => err,
    );
    const closing = mesh.close();
    const err = await outcome;
    expect(isTrellisError(err, ErrorCode.MeshClosed)).toBe(true);
    expect((err as Error).message).toMatch(/closed while a request to 'users' waited to be sent again/);
    await closing;
  });

  it('runs the cleanups layers registered with onClose', async () => {
    let cleaned = 0;
    const mesh = meshWith(undefined, {
      name: 'cleanup-probe',
      wrap(next, service) {
        service.onClose(() => {
          cleaned++;
        });
        return next;
      },
    });
    await mesh.close();
    expect(cleaned).toBe(1);
  });

  it('leaves nothing running: a process that used every front-end exits on its own after close()', async () => {
    const result = await runScript(fixture('close-exits.mjs'), [library.dir, users.address], 10_000);
    expect(result.stderr).toBe('');
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      'ok users-1',
      'ok users-1',
      'ok users-1',
      'ok users-1',
      'slow users-1',
    ]);
  });
});
