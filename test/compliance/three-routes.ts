import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

// The compliance suites' common ground: one mesh service (`users`) on a real upstream process,
// another upstream outside the mesh, and undici's own Agent to compare with. The bindings are
// filled in by `useThreeRoutes()`'s beforeAll (ES modules hand importers the live values).

/** The upstream behind the mesh service `users`. */
export let users: Upstream;
/** An upstream the mesh does not know: reached by pass-through. */
export let outsider: Upstream;
/** The mesh, with the one service `users`. */
export let mesh: Mesh;
/** undici's own Agent, the reference behaviour. */
export const plain = new Agent();

/** Starts the upstreams and the mesh before the file's tests and stops them after. */
export function useThreeRoutes(): void {
  beforeAll(async () => {
    [users, outsider] = (await startUpstreams('users-1', 'outsider')) as [Upstream, Upstream];
    mesh = Mesh.builder()
      .service('users', (s) => s.discovery(staticEndpoints([users.address])))
      .build();
  });
  afterAll(async () => {
    await mesh?.close();
    await plain.close();
    await Promise.all([users?.stop(), outsider?.stop()]);
  });
}

/** The same request through undici's own Agent, a mesh route and a pass-through host. */
export function routes(): [string, Dispatcher, string][] {
  return [
    ['undici Agent', plain, `http://${outsider.address}`],
    ['mesh route', mesh.dispatcher(), 'http://users'],
    ['mesh pass-through', mesh.dispatcher(), `http://${outsider.address}`],
  ];
}
