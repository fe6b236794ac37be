import { afterAll, beforeAll } from 'vitest';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { startUpstream, type Upstream } from './upstreams.js';

/** What {@link useUpstreamMesh} starts; filled in by its `beforeAll`. */
export interface UpstreamMesh {
  /** The upstream process (test/fixtures/upstream.mjs). */
  readonly upstream: Upstream;
  /** A mesh with the default stack and one service, `up`, on the upstream. */
  readonly mesh: Mesh;
}

/**
 * Starts a real upstream process named `name` and a mesh with one service `up` on it before the
 * file's tests, and stops both after them.
 */
export function useUpstreamMesh(name: string): UpstreamMesh {
  const suite = {} as { upstream: Upstream; mesh: Mesh };
  beforeAll(async () => {
    suite.upstream = await startUpstream(name);
    suite.mesh = Mesh.builder()
      .service('up', (s) => s.discovery(staticEndpoints([suite.upstream.address])))
      .build();
  });
  afterAll(async () => {
    await suite.mesh?.close();
    await suite.upstream?.stop();
  });
  return suite;
}
