import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  aperture,
  healthLayer,
  p2cPeakEwma,
  ringHash,
  roundRobin,
  zoneAware,
} from '../../src/balancers/index.js';
import {
  consulEndpoints,
  dnsSrv,
  etcdEndpoints,
  fileEndpoints,
  kubernetesEndpoints,
  staticEndpoints,
} from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh, type MeshBuilder, Stack } from '../../src/index.js';
import {
  adaptiveThrottle,
  bulkhead,
  circuitBreaker,
  deadlines,
  hedging,
  rateLimit,
  retries,
} from '../../src/resilience/index.js';
import { metrics, tracing } from '../../src/telemetry/index.js';

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
        'budget, backoffBaseMs, backoffMaxMs, statuses, maxRetryAfterMs, maxBufferBytes, random',
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
