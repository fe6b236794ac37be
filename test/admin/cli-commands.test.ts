import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { metrics } from '../../src/telemetry/metrics-layer.js';
import { runCli } from '../support/cli-process.js';
import { compileLibrary } from '../support/compiled.js';
import { freePort } from '../support/ports.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

function widest(text: string): number {
  return Math.max(...text.split('\n').map((line) => line.length));
}

describe('trellis stat, top and tap against a running admin endpoint', () => {
  let a: Upstream;
  let b: Upstream;
  let lib: { dir: string; remove(): void };
  let mesh: Mesh;
  let url: string;
  beforeAll(async () => {
    lib = compileLibrary();
    [a, b] = (await startUpstreams('cli-a', 'cli-b')) as [Upstream, Upstream];
    const m = metrics({ registry: new Registry() });
    mesh = Mesh.builder()
      .stack(m.install)
      .service('users-with-a-rather-long-service-name', (s) =>
        s.discovery(staticEndpoints([a.address, b.address])).balancer(roundRobin()),
      )
      .build();
    url = (await mesh.admin({ port: 0 })).url;
  });
  afterAll(async () => {
    await mesh.close();
    await Promise.all([a.stop(), b.stop()]);
    lib.remove();
  });

  const send = async (path: string, route?: string) =>
    (
      await mesh.request({ service: 'users-with-a-rather-long-service-name', path, ...(route && { route }) })
    ).body.dump();

  it('stat prints golden signals per service and route in 80 columns', async () => {
    for (let i = 0; i < 5; i++) await send('/echo', 'GET /echo');
    await send('/status/404', 'GET /status/:code');
    const run = runCli(lib.dir, ['stat', url]);
    expect(await run.exited).toBe(0);
    const out = run.output;
    expect(out).toMatch(/SERVICE \/ ROUTE\s+SUCCESS\s+RPS/);
    expect(out).toContain('users-with-a-rather-long-service-n~'); // cut to its column
    expect(out).toMatch(/ {2}GET \/echo\s+100\.0%/);
    expect(out).toContain('GET /status/:code');
    expect(widest(out)).toBeLessThanOrEqual(80);
  });

  it('top draws the endpoints with their state and counts, and stops on SIGINT', async () => {
    const run = runCli(lib.dir, ['top', url]);
    await expect.poll(() => run.output, { timeout: 10_000 }).toContain(b.address);
    const out = run.output;
    expect(out).toMatch(/ENDPOINT\s+STATE\s+EST MS/);
    expect(out).toMatch(new RegExp(`${a.address.replace('.', '\\.')}\\s+active`));
    // The default stack's retry layer publishes its budget; the metrics layer counts body errors.
    expect(out).toMatch(/^ {2}retry budget \d+\/\d+ {2}body errors 0$/m);
    expect(widest(out)).toBeLessThanOrEqual(80);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  });

  it('tap prints the calls its filters pass, one per line, until SIGINT', async () => {
    const run = runCli(lib.dir, ['tap', url, '--status', '4xx', '--path', '/status']);
    // The tap subscribes when the CLI connects: keep sending until its first line shows.
    await expect
      .poll(
        async () => {
          await send('/echo');
          await send('/status/418');
          return run.output;
        },
        { timeout: 10_000 },
      )
      .toMatch(/GET \/status\/418 -> 418/);
    expect(run.output).not.toContain('/echo');
    expect(widest(run.output)).toBeLessThanOrEqual(80);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  });

  it('says what is wrong with an unreachable admin URL: the address, the socket error, what to check', async () => {
    const port = await freePort();
    const run = runCli(lib.dir, ['stat', `http://127.0.0.1:${port}/`]);
    expect(await run.exited).toBe(1);
    expect(run.output).toContain(
      `cannot reach the admin endpoint at http://127.0.0.1:${port}/services (ECONNREFUSED). Is mesh.admin() running`,
    );
  });
});
