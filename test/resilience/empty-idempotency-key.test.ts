import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { type CountingUpstream, startCounting } from '../support/resilience-upstreams.js';

let a: CountingUpstream;
let b: CountingUpstream;
let mesh: Mesh;

beforeAll(async () => {
  [a, b] = await startCounting('a', 'b');
  mesh = Mesh.builder()
    .stack((st) => st.remove('breaker').remove('health'))
    .service('pair', (s) => s.discovery(staticEndpoints([a.address, b.address])).balancer(roundRobin()))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await Promise.all([a?.kill(), b?.kill()]);
});

describe('an empty Idempotency-Key promises nothing', () => {
  it.each([[''], ['   ']])('a POST with Idempotency-Key %j that got a 503 is not sent again', async (key) => {
    await Promise.all([a.mode('fail503'), b.mode('fail503')]);
    for (let i = 0; i < 4; i++) {
      const requestId = `empty-key-${process.pid}-${JSON.stringify(key)}-${i}`;
      const res = await mesh.request({
        service: 'pair',
        method: 'POST',
        path: '/work',
        headers: { 'x-request-id': requestId, 'idempotency-key': key },
      });
      await res.body.dump();
      expect(res.statusCode).toBe(503);
      const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
      expect((sa.executed[requestId] ?? 0) + (sb.executed[requestId] ?? 0)).toBe(1);
    }
  });
});
