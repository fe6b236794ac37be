import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Layer } from '../../src/core/layer.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';
import { RecordingHandler } from './recording-handler.js';

let upstream: Upstream;
let mesh: Mesh;

// Holds each response for 150 ms on its way up, long enough for the whole (short) body to arrive
// and wait in the relay before the caller's handler is given the response.
const slowUp: Layer = {
  name: 'slow-up',
  wrap: (next) => async (ctx) => {
    const response = await next(ctx);
    await sleep(150);
    return response;
  },
};

beforeAll(async () => {
  upstream = await startUpstream('held-end');
  mesh = Mesh.builder()
    .service('users', (s) =>
      s.discovery(staticEndpoints([upstream.address])).stack((st) => st.prepend(slowUp)),
    )
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await upstream?.stop();
});

// undici ends a request its handler aborts in onResponseStart with an error, however much of the
// body has already arrived. The relay holds a body that arrived whole before the caller was
// given the response: the caller's abort must still win over that held end.
describe('a caller that aborts in onResponseStart when the whole body already arrived', () => {
  it('gets one error and no data or end, as from undici', async () => {
    const handler = new RecordingHandler(
      (event, h) => event === 'response 200' && h.controller?.abort(new Error('stop')),
    );
    mesh.dispatcher().dispatch({ origin: 'http://users', path: '/stream?n=3&ms=1', method: 'GET' }, handler);
    await handler.done;
    await sleep(100);
    expect(handler.events.map((e) => (e.startsWith('error') ? 'error' : e))).toEqual([
      'start',
      'response 200',
      'error',
    ]);
  });
});
