import { once } from 'node:events';
import { type Dispatcher, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { freePort } from '../support/ports.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let users: Upstream;
let outsider: Upstream;
let refusedPort: number;
let mesh: Mesh;

beforeAll(async () => {
  [users, outsider] = (await startUpstreams('users-1', 'outsider')) as [Upstream, Upstream];
  refusedPort = await freePort(); // nothing listens there: connecting is refused
  mesh = Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints([users.address])))
    .service('nowhere', (s) => s.discovery(staticEndpoints([`127.0.0.1:${refusedPort}`])))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await Promise.all([users?.stop(), outsider?.stop()]);
});

type Seen = { origin: string; first: Dispatcher | undefined; error?: string };

/** Waits for one event of `name` on the dispatcher while `act` runs. */
async function seen(
  name: 'connect' | 'disconnect' | 'connectionError',
  act: () => Promise<unknown>,
): Promise<Seen> {
  const dispatcher = mesh.dispatcher();
  const event = once(dispatcher, name) as Promise<[URL, Dispatcher[], Error?]>;
  await act().catch(() => undefined);
  const [origin, targets, error] = await event;
  return {
    origin: origin.origin,
    first: targets[0],
    ...(error && { error: (error as { code?: string }).code ?? error.name }),
  };
}

async function get(url: string, reset = false): Promise<void> {
  const res = await request(url, { dispatcher: mesh.dispatcher(), reset });
  await res.body.dump();
}

describe('connect, disconnect and connectionError on the mesh dispatcher, as undici emits them', () => {
  for (const [where, url, refused] of [
    ['mesh route', () => 'http://users/echo', () => 'http://nowhere/echo'],
    [
      'pass-through host',
      () => `http://${outsider.address}/echo`,
      () => `http://127.0.0.1:${refusedPort}/echo`,
    ],
  ] as const) {
    it(`${where}: connect when a connection opens, disconnect when it closes, with the dispatcher first in targets`, async () => {
      const connected = await seen('connect', () => get(url(), true));
      expect(connected.first).toBe(mesh.dispatcher());
      // reset: true closes the connection after the response.
      const disconnected = await seen('disconnect', () => get(url(), true));
      expect(disconnected.first).toBe(mesh.dispatcher());
      expect(disconnected.origin).toBe(connected.origin);
    });

    it(`${where}: connectionError when the address refuses`, async () => {
      const failed = await seen('connectionError', () => get(refused()));
      expect(failed.first).toBe(mesh.dispatcher());
      expect(failed.error).toBe('ECONNREFUSED');
    });
  }
});
