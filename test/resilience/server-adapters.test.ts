import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { fastifyInboundDeadline, inboundDeadlineMiddleware } from '../../src/resilience/inbound.js';
import { TIMEOUT_HEADER } from '../../src/resilience/timeout-header.js';
import { type CountingUpstream, startCounting } from '../support/resilience-upstreams.js';

let upstream: CountingUpstream;
let mesh: Mesh;

beforeAll(async () => {
  [upstream] = await startCounting('adapters');
  mesh = Mesh.builder()
    .service('up', (s) => s.discovery(staticEndpoints([upstream.address])))
    .build();
});

afterAll(async () => {
  await mesh.close();
  await upstream.kill();
});

/** What a handler reports: the timeout the upstream saw, or the error code of the mesh call. */
async function callUpstream(path: string): Promise<string> {
  try {
    const res = await mesh.request({ service: 'up', path });
    await res.body.dump();
    return String(res.headers['x-seen-timeout'] ?? 'none');
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe('Express middleware', () => {
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    const app = express();
    app.use(inboundDeadlineMiddleware());
    // An async gap before the call, so the scope must survive the middleware chain and an await.
    app.get('/', async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      res.send(await callUpstream('/work'));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });

  afterAll(() => close());

  it('carries the inbound remaining time into mesh calls made by a route', async () => {
    const res = await request(url, { headers: { [TIMEOUT_HEADER]: '900' } });
    const seen = Number(await res.body.text());
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(900);
  });

  it('fails mesh calls at once when the inbound time is spent', async () => {
    const res = await request(url, { headers: { [TIMEOUT_HEADER]: '0' } });
    expect(await res.body.text()).toBe(ErrorCode.DeadlineExceeded);
  });
});

describe('Fastify hook', () => {
  const app = Fastify();
  let url: string;

  beforeAll(async () => {
    app.addHook('onRequest', fastifyInboundDeadline());
    app.get('/', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return callUpstream('/work');
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(() => app.close());

  it('carries the inbound remaining time into mesh calls made by a route', async () => {
    const res = await request(url, { headers: { [TIMEOUT_HEADER]: '900' } });
    const seen = Number(await res.body.text());
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(900);
  });

  it('leaves mesh calls without a deadline when the inbound request has none', async () => {
    const res = await request(url);
    expect(await res.body.text()).toBe('none');
  });
});
