import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let users: Upstream;
let outsider: Upstream;

beforeAll(async () => {
  [users, outsider] = (await startUpstreams('users-1', 'outsider')) as [Upstream, Upstream];
});

afterAll(async () => {
  await Promise.all([users?.stop(), outsider?.stop()]);
});

/** A mesh whose dispatcher has carried one mesh request and one pass-through request. */
async function usedMesh(): Promise<Mesh> {
  const mesh = Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints([users.address])))
    .build();
  const dispatcher = mesh.dispatcher();
  await (await request('http://users/echo', { dispatcher })).body.dump();
  await (await request(`http://${outsider.address}/echo`, { dispatcher })).body.dump();
  return mesh;
}

describe('close and destroy with callbacks, as undici dispatchers take them', () => {
  it('close(cb) calls back once the pass-through agent has closed', async () => {
    const mesh = await usedMesh();
    await new Promise<void>((resolve) => mesh.dispatcher().close(resolve));
    // The agent is closed: a pass-through request is refused, as undici's closed agent refuses.
    await expect(
      request(`http://${outsider.address}/echo`, { dispatcher: mesh.dispatcher() }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^UND_ERR_(CLOSED|DESTROYED)$/),
    });
    await mesh.close();
  });

  it('destroy(err, cb) and destroy(cb) call back', async () => {
    for (const destroy of [
      (m: Mesh, cb: () => void) => m.dispatcher().destroy(new Error('going away'), cb),
      (m: Mesh, cb: () => void) => m.dispatcher().destroy(cb),
    ]) {
      const mesh = await usedMesh();
      let calls = 0;
      await new Promise<void>((resolve) =>
        destroy(mesh, () => {
          calls++;
          resolve();
        }),
      );
      expect(calls).toBe(1);
      await mesh.close();
    }
  });

  it('close() and destroy() without a callback still return promises', async () => {
    const mesh = await usedMesh();
    const closed = mesh.dispatcher().close();
    expect(closed).toBeInstanceOf(Promise);
    await closed;
    await mesh.close();
  });
});
