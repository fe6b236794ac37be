import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { isTrellisError, type TrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { routes } from '../../src/routing/route-layer.js';
import { RulesSource, rulesSource } from '../../src/routing/rules-source.js';
import { subsetOf } from '../../src/routing/subset.js';
import { type Recorder, startRecorder } from '../support/recorder.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let v1: Upstream;
let v2: Upstream;
let shadow: Recorder;
let hanging: Recorder;
let rules: RulesSource;
let mesh: Mesh;

/** Which upstream answered (its x-upstream header); the body is consumed. */
async function whoAnswers(service: string, headers?: Record<string, string>, path = '/'): Promise<string> {
  const { headers: got, body } = await mesh.request({ service, path, headers });
  await body.dump();
  return String(got['x-upstream']);
}

beforeAll(async () => {
  [v1, v2] = (await startUpstreams('v1', 'v2')) as [Upstream, Upstream];
  [shadow, hanging] = await Promise.all([startRecorder('answer'), startRecorder('hang')]);
  rules = rulesSource();
  mesh = Mesh.builder()
    .rules(rules)
    .service('users', (s) => s.discovery(staticEndpoints([v1.address])).hosts('users.prod.svc.cluster.local'))
    .service('users-v2', (s) => s.discovery(staticEndpoints([v2.address])))
    .service('shadow', (s) => s.discovery(staticEndpoints([shadow.address])))
    .service('hanging', (s) => s.discovery(staticEndpoints([hanging.address])))
    .service('nowhere', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])))
    // the hanging mirror target never answers: do not wait for it at close
    .closeTimeout(200)
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await Promise.all([v1, v2, shadow, hanging].map((p) => p?.stop()));
});

beforeEach(() => {
  rules.set({ services: {} });
});

describe('routing by rules (real upstream processes)', () => {
  it('sends every request to the service itself while it has no rules', async () => {
    expect(await whoAnswers('users')).toBe('v1');
  });

  it('sends requests with a canary header to the canary version and others to the service', async () => {
    rules.set({
      services: { users: { routes: [{ match: { headers: { 'x-canary': '1' } }, backend: 'users-v2' }] } },
    });
    expect(await whoAnswers('users', { 'x-canary': '1' })).toBe('v2');
    expect(await whoAnswers('users')).toBe('v1');
  });

  it('routes requests made by a claimed host name through the fetch front-end too', async () => {
    rules.set({
      services: { users: { routes: [{ match: { headers: { 'x-canary': '1' } }, backend: 'users-v2' }] } },
    });
    const canary = await mesh.fetch('http://users.prod.svc.cluster.local/', { headers: { 'x-canary': '1' } });
    const plain = await mesh.fetch('http://users.prod.svc.cluster.local/');
    await Promise.all([canary.text(), plain.text()]);
    expect([canary.headers.get('x-upstream'), plain.headers.get('x-upstream')]).toEqual(['v2', 'v1']);
  });

  it('shifts all traffic to a backend at weight 100 and back, without a restart', async () => {
    const split = (v1Weight: number, v2Weight: number) =>
      rules.set({
        services: {
          users: {
            routes: [
              {
                split: [
                  { backend: 'users', weight: v1Weight },
                  { backend: 'users-v2', weight: v2Weight },
                ],
              },
            ],
          },
        },
      });
    split(0, 100);
    const after = await Promise.all(Array.from({ length: 20 }, () => whoAnswers('users')));
    expect(new Set(after)).toEqual(new Set(['v2']));
    split(100, 0);
    expect(await whoAnswers('users')).toBe('v1');
  });

  it('does not route a request again in the backend it was routed to, so rules cannot loop', async () => {
    rules.set({
      services: {
        users: { routes: [{ backend: 'users-v2' }] },
        'users-v2': { routes: [{ backend: 'users' }] },
      },
    });
    expect(await whoAnswers('users')).toBe('v2');
    expect(await whoAnswers('users-v2')).toBe('v1');
  });

  it('treats a host the service claims as the service itself when named as a backend', async () => {
    rules.set({ services: { users: { routes: [{ backend: 'users.prod.svc.cluster.local' }] } } });
    expect(await whoAnswers('users')).toBe('v1');
  });

  it('mirrors a copy of the request, marked as a mirror, and answers the caller from the primary', async () => {
    const before = (await shadow.recorded()).length;
    rules.set({
      services: { users: { routes: [{ backend: 'users', mirror: { backend: 'shadow', percent: 100 } }] } },
    });
    const { statusCode, headers, body } = await mesh.request({
      service: 'users',
      method: 'POST',
      path: '/echo?x=1',
      headers: { 'content-type': 'text/plain', 'x-request-id': 'abc' },
      body: 'hello',
    });
    const echoed = (await body.json()) as { name: string; body: string };
    expect([statusCode, headers['x-upstream'], echoed.body]).toEqual([200, 'v1', 'hello']);
    const copy = (await shadow.waitFor(before + 1))[before]!;
    expect(copy).toMatchObject({ method: 'POST', url: '/echo?x=1', body: 'hello' });
    expect(copy.headers).toMatchObject({ 'x-request-id': 'abc', 'x-trellis-mirror': '1' });
  });

  it('answers the caller while the mirror target has received the copy and not answered it', async () => {
    const before = (await hanging.recorded()).length;
    rules.set({
      services: { users: { routes: [{ backend: 'users', mirror: { backend: 'hanging', percent: 100 } }] } },
    });
    expect(await whoAnswers('users')).toBe('v1');
    expect(await hanging.waitFor(before + 1)).toHaveLength(before + 1);
  });

  it('keeps the caller unaffected when the mirror target refuses connections', async () => {
    rules.set({
      services: { users: { routes: [{ backend: 'users', mirror: { backend: 'nowhere', percent: 100 } }] } },
    });
    const answers = await Promise.all(Array.from({ length: 5 }, () => whoAnswers('users')));
    expect(answers).toEqual(['v1', 'v1', 'v1', 'v1', 'v1']);
  });

  it('never mirrors a request with a streaming body, which cannot be sent twice', async () => {
    const before = (await shadow.recorded()).length;
    rules.set({
      services: { users: { routes: [{ backend: 'users', mirror: { backend: 'shadow', percent: 100 } }] } },
    });
    const streamed = await mesh.request({
      service: 'users',
      method: 'POST',
      path: '/echo?streamed',
      body: Readable.from([Buffer.from('part-1 '), Buffer.from('part-2')]),
    });
    expect(((await streamed.body.json()) as { body: string }).body).toBe('part-1 part-2');
    await whoAnswers('users', undefined, '/echo?replayable');
    const seen = await shadow.waitFor(before + 1);
    expect(seen.slice(before).map((r) => r.url)).toEqual(['/echo?replayable']);
  });

  it('fails every request with TRELLIS_FAULT_INJECTED under a 100% abort fault, without sending it', async () => {
    rules.set({
      services: { users: { routes: [{ backend: 'users', fault: { abort: { percent: 100 } } }] } },
    });
    const err = await mesh.request({ service: 'users', path: '/' }).catch((e: unknown) => e);
    expect(isTrellisError(err, 'TRELLIS_FAULT_INJECTED')).toBe(true);
    expect((err as TrellisError).message).toMatch(/fault injection/);
  });

  it('holds every request for the configured time under a 100% delay fault, then answers it', async () => {
    rules.set({
      services: { users: { routes: [{ backend: 'users', fault: { delay: { percent: 100, ms: 60 } } }] } },
    });
    const started = performance.now();
    expect(await whoAnswers('users')).toBe('v1');
    expect(performance.now() - started).toBeGreaterThanOrEqual(59);
  });

  it('fails a request aborted by the caller during an injected delay with TRELLIS_ABORTED', async () => {
    rules.set({
      services: { users: { routes: [{ backend: 'users', fault: { delay: { percent: 100, ms: 5000 } } }] } },
    });
    const err = await mesh
      .request({ service: 'users', path: '/', signal: AbortSignal.timeout(30) })
      .catch((e) => e);
    expect(isTrellisError(err, 'TRELLIS_ABORTED')).toBe(true);
  });

  it('rejects a mirror back into the service itself, by its name or a host it claims', () => {
    for (const backend of ['users', 'users.prod.svc.cluster.local']) {
      expect(() =>
        rules.set({
          services: { users: { routes: [{ backend: 'users-v2', mirror: { backend, percent: 5 } }] } },
        }),
      ).toThrow(/cannot mirror to itself/);
    }
  });

  it('rejects an update naming a backend the mesh lacks, keeps the previous rules, and says what to do', async () => {
    rules.set({ services: { users: { routes: [{ backend: 'users-v2' }] } } });
    const rejected: TrellisError[] = [];
    rules.on('rejected', (e) => rejected.push(e));
    expect(() => rules.set({ services: { users: { routes: [{ backend: 'users-v3' }] } } })).toThrow(
      /backend 'users-v3' is not a service of this mesh; add it with \.service\('users-v3'/,
    );
    expect(rejected).toHaveLength(1);
    rules.removeAllListeners('rejected');
    expect(await whoAnswers('users')).toBe('v2');
  });
});

describe('a subset of endpoints as a backend (real upstream processes)', () => {
  it('sends canary requests only to the endpoints labelled version=v2', async () => {
    const all = staticEndpoints([
      { host: '127.0.0.1', port: v1.port, metadata: { version: 'v1' } },
      { host: '127.0.0.1', port: v2.port, metadata: { version: 'v2' } },
    ]);
    const subsetMesh = Mesh.builder()
      .service('catalog', (s) =>
        s
          .discovery(all)
          .balancer(roundRobin())
          .layer(routes({ routes: [{ match: { headers: { 'x-canary': '1' } }, backend: 'catalog-v2' }] })),
      )
      .service('catalog-v2', (s) => s.discovery(subsetOf(all, { version: 'v2' }, 'catalog')))
      .build();
    const answer = async (headers?: Record<string, string>) => {
      const { headers: got, body } = await subsetMesh.request({ service: 'catalog', path: '/', headers });
      await body.dump();
      return String(got['x-upstream']);
    };
    try {
      const canary = [];
      const plain = [];
      for (let i = 0; i < 4; i++) {
        canary.push(await answer({ 'x-canary': '1' }));
        plain.push(await answer());
      }
      expect(canary).toEqual(['v2', 'v2', 'v2', 'v2']);
      expect(new Set(plain)).toEqual(new Set(['v1', 'v2']));
    } finally {
      await subsetMesh.close();
    }
  });
});

describe('building a mesh with rules', () => {
  it('stops watching the rules source when the build fails on a later service', async () => {
    const watching = { started: 0, stopped: 0 };
    const source = new RulesSource(
      'a test source',
      { services: { b: { routes: [{ backend: 'missing' }] } } },
      () => {
        watching.started++;
        return () => {
          watching.stopped++;
        };
      },
    );
    expect(() =>
      Mesh.builder()
        .rules(source)
        .service('a', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])))
        .service('b', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])))
        .build(),
    ).toThrow(/backend 'missing' is not a service of this mesh/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(watching).toEqual({ started: 1, stopped: 1 });
  });

  it('fails the build with a clear error when a fixed route names an unknown service', () => {
    expect(() =>
      Mesh.builder()
        .service('a', (s) =>
          s.discovery(staticEndpoints(['127.0.0.1:1'])).layer(routes({ routes: [{ backend: 'b' }] })),
        )
        .build(),
    ).toThrow(/backend 'b' is not a service of this mesh/);
  });

  it('reports invalid fixed routes as a build problem', () => {
    expect(() =>
      Mesh.builder()
        .service('a', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])).layer(routes({ routes: [{}] })))
        .build(),
    ).toThrow(/give either 'backend' or 'split'/);
  });
});
