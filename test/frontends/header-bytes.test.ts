import { fileURLToPath } from 'node:url';
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { type ListenerProcess, startListener } from '../support/listener-process.js';

const RAW_UPSTREAM = fileURLToPath(new URL('../fixtures/raw-upstream.mjs', import.meta.url));
const LATIN1_CAFE = '636166e9'; // "caf" + 0xE9, as the upstream sends it

describe('response headers through the fetch front-ends', () => {
  let upstream: ListenerProcess;
  let mesh: Mesh;

  beforeAll(async () => {
    upstream = await startListener(RAW_UPSTREAM, []);
    mesh = Mesh.builder()
      .service('raw', (s) => s.discovery(staticEndpoints([`127.0.0.1:${upstream.port}`])))
      .build();
  });

  afterAll(async () => {
    await mesh.close();
    await upstream?.stop();
  });

  const bytesOf = (value: string | null) => Buffer.from(value ?? '', 'latin1').toString('hex');

  it('mesh.fetch() hands over a non-ASCII header byte exactly as the upstream sent it', async () => {
    const response = await mesh.fetch('http://raw/');
    await response.text();
    expect(bytesOf(response.headers.get('x-latin'))).toBe(LATIN1_CAFE);
  });

  it("Node's fetch on the mesh dispatcher hands over a non-ASCII header byte unchanged", async () => {
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(mesh.dispatcher());
    try {
      const response = await fetch('http://raw/');
      await response.text();
      expect(bytesOf(response.headers.get('x-latin'))).toBe(LATIN1_CAFE);
    } finally {
      setGlobalDispatcher(previous);
    }
  });
});
