import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  aperture,
  healthLayer,
  p2cPeakEwma,
  ringHash,
  roundRobin,
  zoneAware,
} from '../../src/balancers/index.js';
import { LatencyWindow } from '../../src/core/latency-window.js';
import { parseConsulHealth } from '../../src/discovery/consul/consul-format.js';
import {
  consulEndpoints,
  dnsSrv,
  EtcdClient,
  etcdEndpoints,
  fileEndpoints,
  kubernetesEndpoints,
  registerEndpoint,
  staticEndpoints,
} from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh, type MeshBuilder, Stack } from '../../src/index.js';
import {
  adaptiveThrottle,
  bulkhead,
  circuitBreaker,
  deadlines,
  fastifyInboundDeadline,
  hedging,
  inboundDeadlineMiddleware,
  RetryBudget,
  rateLimit,
  retries,
  withInboundDeadline,
} from '../../src/resilience/index.js';
import { etcdRules, routes } from '../../src/routing/index.js';
import { metrics, tracing, withServerSpan } from '../../src/telemetry/index.js';
import { mutualTls, serverTlsOptions, tlsFromFiles } from '../../src/tls/index.js';

/** The problems `build()` reports (typed details: no cast), or [] when it builds. */
function problemsOf(builder: MeshBuilder): readonly string[] {
  try {
    void builder.build().close();
    return [];
  } catch (err) {
    if (!isTrellisError(err, ErrorCode.InvalidConfig)) throw err;
    return err.details.problems;
  }
}

describe('unknown option keys are refused with the near key and the list of known ones', () => {
  it('names the typo in retries({ retires }), circuitBreaker({ errorThreshold }) and roundRobin({ foo })', () => {
    const problems = problemsOf(
      Mesh.builder().service('users', (s) =>
        s
          .discovery(staticEndpoints(['127.0.0.1:1']))
          .balancer(roundRobin({ foo: 1 } as never))
          .layer(retries({ retires: 3 } as never))
          .layer(circuitBreaker({ errorThreshold: 50 } as never)),
      ),
    );
    expect(problems).toEqual([
      "service 'users': roundRobin(): unknown option 'foo'; known options: panicThreshold, random",
      expect.stringMatching(
        /^service 'users': circuitBreaker\(\): unknown option 'errorThreshold'; known options: errorThresholdPercentage, volumeThreshold, /,
      ),
      "service 'users': retries(): unknown option 'retires' (did you mean 'retries'?); known options: retries, " +
        'budget, backoffBaseMs, backoffMaxMs, statuses, maxRetryAfterMs, maxBufferBytes, random, policy',
    ]);
  });

  it('covers every options-taking factory (layers, balancers, resolvers), nested options included', () => {
    const layers = [
      retries({ budget: { percnt: 0.1 } } as never),
      hedging({ quantle: 0.9 } as never),
      deadlines({ timeout: 100 } as never),
      bulkhead({ maxInflight: 1 } as never),
      rateLimit({ ratePerSecond: 1, brust: 2 } as never),
      adaptiveThrottle({ kk: 2 } as never),
      healthLayer({ activeCheck: { path: '/h', interval: 1 } } as never),
      tracing({ propagte: false } as never),
      metrics({ registry: new Registry(), prefx: 'x' } as never),
    ];
    for (const layer of layers)
      expect(layer.validate?.()).toEqual([expect.stringMatching(/unknown .*option '/)]);
    const others = [
      p2cPeakEwma({ decay: 1 } as never),
      aperture({ instanceId: 0, instanceCount: 1, aperture: 3 } as never),
      zoneAware({ zone: 'a', minLocal: 1 } as never),
      ringHash({ key: 'x-user', points: 3 } as never),
      fileEndpoints('/tmp/x.json', { poll: 1 } as never),
      dnsSrv('_http._tcp.x.test', { server: ['127.0.0.1:53'] } as never),
      etcdEndpoints({ etcd: { endpoints: ['http://127.0.0.1:2379'] }, prefx: '/x/' } as never),
      consulEndpoints({ address: 'http://127.0.0.1:8500', dc: 'x' } as never),
      kubernetesEndpoints({ apiServer: 'http://127.0.0.1:6443', namespace: 'x', namepsace: 'x' } as never),
    ];
    for (const factory of others)
      expect(factory.validate?.()).toEqual([expect.stringMatching(/unknown option '/)]);
  });
});

describe('the other public factories, constructors and calls refuse unknown keys too', () => {
  const etcd = new EtcdClient({ endpoints: ['http://127.0.0.1:1'] });
  const mesh = Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])))
    .build();
  afterAll(async () => {
    await mesh.close();
    await etcd.close();
  });
  const handler = () => {};
  const pem = { ca: 'ca', cert: 'cert', key: 'key' };

  // [what is called, the call (it throws, rejects, or returns a layer/resolver to validate), the
  // unknown key, the near key suggested if any]
  const cases: [string, () => unknown, string, string?][] = [
    ['mutualTls', () => mutualTls({ ...pem, serverIdentity: 'spiffe://a/b', sni: 'x' } as never), 'sni'],
    ['tlsFromFiles', () => tlsFromFiles({ serverName: 'users' } as never), 'serverName', 'servername'],
    ['serverTlsOptions', () => serverTlsOptions({ ...pem, requestCert: false } as never), 'requestCert'],
    [
      'EtcdClient',
      () => new EtcdClient({ endpoints: ['http://127.0.0.1:1'], timeoutM: 5 } as never),
      'timeoutM',
      'timeoutMs',
    ],
    ['EtcdClient.lease', () => etcd.lease(10, { onLose() {} } as never), 'onLose', 'onLost'],
    [
      'EtcdClient.watch',
      () => etcd.watch('/x/', { onSnapshot: handler, onEvents: handler, onEvent: handler } as never),
      'onEvent',
      'onEvents',
    ],
    [
      'EtcdClient.watch',
      () => etcd.watch('/x/', { onSnapshot: handler, onEvents: handler }, { startRev: 1 } as never),
      'startRev',
    ],
    [
      'registerEndpoint',
      () =>
        registerEndpoint({ etcd, service: 'a', endpoint: { host: '127.0.0.1', port: 1 }, ttl: 10 } as never),
      'ttl',
    ],
    ['etcdRules', () => etcdRules({ endpoints: ['http://127.0.0.1:1'], keys: '/r' } as never), 'keys', 'key'],
    [
      'etcdRules',
      () => etcdRules({ endpoints: ['http://127.0.0.1:1'], etcd: { timeoutM: 5 } } as never),
      'timeoutM',
      'timeoutMs',
    ],
    ['mesh.ready', () => mesh.ready({ timout: 5 } as never), 'timout', 'timeout'],
    ['mesh.admin', () => mesh.admin({ prot: 0 } as never), 'prot', 'port'],
    ['mesh.admin', () => mesh.admin({ port: 0, tap: { bufer: 1 } } as never), 'bufer', 'buffer'],
    ['mesh.adminHandler', () => mesh.adminHandler({ taps: {} } as never), 'taps', 'tap'],
    ['RetryBudget', () => new RetryBudget({ percnt: 0.1 } as never), 'percnt', 'percent'],
    ['LatencyWindow', () => new LatencyWindow({ quantle: 0.9 } as never), 'quantle', 'quantile'],
    ['routes', () => routes(undefined, { sed: 1 } as never), 'sed', 'seed'],
    ['withServerSpan', () => withServerSpan(handler, { tracr: undefined } as never), 'tracr', 'tracer'],
    ['withInboundDeadline', () => withInboundDeadline(handler, { maxTimeout: 1 } as never), 'maxTimeout'],
    [
      'inboundDeadlineMiddleware',
      () => inboundDeadlineMiddleware({ defaultTimeout: 1 } as never),
      'defaultTimeout',
    ],
    [
      'fastifyInboundDeadline',
      () => fastifyInboundDeadline({ maxTimeoutM: 1 } as never),
      'maxTimeoutM',
      'maxTimeoutMs',
    ],
    ['parseConsulHealth', () => parseConsulHealth([], { zoneKey: 'z' } as never), 'zoneKey'],
    [
      "a resolver's updates",
      () => fileEndpoints('/tmp/x.json', { updates: { debounce: 1 } } as never),
      'debounce',
    ],
  ];

  /** The problems a call reports: thrown, rejected, or from its validate(). */
  async function problemsFrom(call: () => unknown): Promise<{ code?: string; problems: readonly string[] }> {
    try {
      const result = (await call()) as { validate?: () => string[] };
      return { problems: result?.validate?.() ?? [] };
    } catch (err) {
      if (!isTrellisError(err)) throw err;
      return { code: err.code, problems: (err.details as { problems?: string[] }).problems ?? [err.message] };
    }
  }

  it.each(cases)('%s', async (name, call, key, near) => {
    const { code, problems } = await problemsFrom(call);
    // mesh.ready() refuses its options as the call's own problem, as request options are.
    if (code !== undefined)
      expect(code).toBe(name === 'mesh.ready' ? ErrorCode.InvalidRequest : ErrorCode.InvalidConfig);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`unknown option '${key}'`);
    if (near !== undefined) expect(problems[0]).toContain(`(did you mean '${near}'?)`);
    expect(problems[0]).toMatch(/; known options: \w+/);
  });

  it('still accepts the known keys (a valid call is not refused)', async () => {
    expect(() => tlsFromFiles({ servername: 'users' })).not.toThrow();
    expect(() => new RetryBudget({ percent: 0.1, minPerSecond: 1, ttlMs: 1000 })).not.toThrow();
    expect(routes(undefined, { seed: 1 }).validate?.() ?? []).toEqual([]);
    await expect(mesh.ready({ timeout: 1000 })).resolves.toBeUndefined();
  });
});

describe('transport({ tls }) refuses unknown keys at its top level', () => {
  it("names the near key, and leaves tls.connect (node:tls's own options) alone", () => {
    const problems = problemsOf(
      Mesh.builder().service('users', (s) =>
        s
          .discovery(staticEndpoints(['127.0.0.1:1']))
          .transport({ tls: { servrname: 'users', connect: { minVersion: 'TLSv1.3' } } as never }),
      ),
    );
    expect(problems).toEqual([
      "service 'users': transport.tls: unknown option 'servrname' (did you mean 'servername'?); " +
        'known options: ca, cert, key, servername, connect',
    ]);
  });
});

describe('build() lists every problem at once', () => {
  it("keeps the service's other problems when a layer factory is given bad options", () => {
    const problems = problemsOf(
      Mesh.builder().service('users', (s) =>
        s
          .layer(retries({ retries: -1 }))
          .layer(circuitBreaker({ errorThresholdPercentage: 120 }))
          .transport({ connections: 0 }),
      ),
    );
    // Before, retries() threw inside the configure function and only that throw was reported.
    expect(problems).toEqual([
      "service 'users' has no discovery: call .discovery(staticEndpoints([...])) or another resolver",
      "service 'users': transport.connections must be an integer >= 1, got 0",
      expect.stringMatching(
        /^service 'users': circuitBreaker\(\): errorThresholdPercentage must be a number in \[0, 100\]/,
      ),
      "service 'users': retries(): retries must be an integer >= 0, got -1",
    ]);
  });

  it('a layer with bad options refuses to be built outside a mesh builder', () => {
    const stack = Stack.of(deadlines({ timeoutMs: -1 }));
    expect(() => stack.build({} as never)).toThrow(
      /Invalid 'deadline' layer: deadlines\(\): timeoutMs must be/,
    );
  });
});

describe('staticEndpoints() recognises a URL', () => {
  it("says to drop the scheme instead of 'IPv6 addresses must be written in brackets'", () => {
    const problems = problemsOf(
      Mesh.builder().service('users', (s) => s.discovery(staticEndpoints(['http://127.0.0.1:3000/']))),
    );
    expect(problems).toEqual([
      expect.stringContaining(
        "this is a URL; an endpoint is an address: drop the scheme and write '127.0.0.1:3000'",
      ),
    ]);
  });
});
