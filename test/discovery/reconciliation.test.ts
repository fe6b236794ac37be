import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import { fileEndpoints } from '../../src/discovery/file/file-resolver.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { until } from '../support/discovery.js';
import { freePort } from '../support/ports.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

describe('what discovery says and what the mesh observes, in a real mesh', () => {
  let dir: string;
  let file: string;
  let upstream: Upstream;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-reconcile-'));
    file = join(dir, 'endpoints.json');
    upstream = await startUpstream('live');
  });
  afterAll(async () => {
    await upstream?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function publish(content: unknown): Promise<void> {
    const temp = join(dir, `.tmp-${Math.random()}`);
    await writeFile(temp, typeof content === 'string' ? content : JSON.stringify(content));
    await rename(temp, file);
  }

  it('keeps an endpoint that discovery lists but that refuses connections (ejection decides), and reports bad updates without losing the set', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    await publish([upstream.address, dead]);
    const mesh = Mesh.builder()
      .service('api', (s) =>
        // Round robin, so requests alternate; no retries, so each request shows what its one endpoint did.
        s
          .discovery(fileEndpoints(file, { updates: { debounceMs: 10, emptySetGraceMs: 300 } }))
          .balancer(roundRobin())
          .stack((st) => st.remove('retry')),
      )
      .build();
    const errors: Error[] = [];
    mesh.on('discoveryError', (_service, err) => errors.push(err));
    try {
      await until(() => mesh.snapshot('api').length === 2, 'both endpoints');
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        try {
          const res = await mesh.request({ service: 'api', method: 'GET', path: '/' });
          outcomes.push(`ok ${(await res.body.text()).trim()}`);
        } catch (err) {
          outcomes.push(isTrellisError(err, ErrorCode.UpstreamUnavailable) ? 'refused' : String(err));
        }
      }
      expect(outcomes.filter((o) => o === 'ok ok live')).toHaveLength(2);
      expect(outcomes.filter((o) => o === 'refused')).toHaveLength(2);
      // Discovery is not overruled by what the mesh observed: the endpoint stays listed.
      expect(mesh.snapshot('api').map((e) => e.id)).toContain(dead);

      await publish('not json');
      await until(() => errors.length === 1, 'the discoveryError event');
      expect(isTrellisError(errors[0], ErrorCode.InvalidDiscoveryData)).toBe(true);
      expect(mesh.snapshot('api')).toHaveLength(2);

      await publish([]);
      await until(() => errors.some((e) => isTrellisError(e, ErrorCode.NoEndpoints)), 'the hold notice');
      expect(mesh.snapshot('api')).toHaveLength(2);
      await until(() => mesh.snapshot('api').length === 0, 'the grace to end');
    } finally {
      await mesh.close();
    }
  });
});
