import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';
import { type HandlerEvent, RecordingHandler } from './recording-handler.js';

let users: Upstream;
let outsider: Upstream;
let mesh: Mesh;
const plain = new Agent();

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

/** The same request through undici's own Agent, a mesh route and a pass-through host. */
function routes(): [string, Dispatcher, string][] {
  return [
    ['undici Agent', plain, `http://${outsider.address}`],
    ['mesh route', mesh.dispatcher(), 'http://users'],
    ['mesh pass-through', mesh.dispatcher(), `http://${outsider.address}`],
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function send(
  dispatcher: Dispatcher,
  origin: string,
  path: string,
  script: (event: HandlerEvent, handler: RecordingHandler) => void,
): RecordingHandler {
  const handler = new RecordingHandler(script);
  dispatcher.dispatch({ origin, path, method: 'GET' }, handler);
  return handler;
}

describe('handlers that pause', () => {
  it('pause() in onRequestStart holds every body chunk until resume(), then all arrive in order', async () => {
    for (const [name, dispatcher, origin] of routes()) {
      const handler = send(dispatcher, origin, '/stream?n=3&ms=5', (event, h) => {
        if (event === 'start') h.controller?.pause();
      });
      // The whole body has been sent by the upstream by now; none of it may reach a paused handler.
      await sleep(400);
      expect(handler.count('data'), name).toBe(0);
      expect(handler.count('end'), name).toBe(0);
      handler.controller?.resume();
      await handler.done;
      expect(handler.body, name).toBe('chunk-0\nchunk-1\nchunk-2\n');
      expect(handler.events.at(-1), name).toBe('end');
    }
  });
});
