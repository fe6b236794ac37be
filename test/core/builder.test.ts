import { describe, expect, it } from 'vitest';
import type { BalancerFactory } from '../../src/balancers/index.js';
import { roundRobin } from '../../src/balancers/index.js';
import { type Resolver, staticEndpoints } from '../../src/discovery/index.js';
import {
  defaultStack,
  ErrorCode,
  isTrellisError,
  type Layer,
  Mesh,
  type MeshBuilder,
  type TransportOptions,
} from '../../src/index.js';

const ENDPOINTS = staticEndpoints(['127.0.0.1:1']);

/** The problems `build()` reports for a builder, or [] when it builds. */
function problemsOf(builder: MeshBuilder): string[] {
  try {
    void builder.build().close();
    return [];
  } catch (err) {
    expect(isTrellisError(err, ErrorCode.InvalidConfig)).toBe(true);
    const problems = (err as { details: { problems: string[] } }).details.problems;
    // The message lists every problem too, one per line.
    for (const problem of problems) expect((err as Error).message).toContain(problem);
    return problems;
  }
}

function oneService(configure: Parameters<MeshBuilder['service']>[1], name = 'users'): string[] {
  return problemsOf(Mesh.builder().service(name, configure));
}

const passThroughBalance: Layer = { name: 'balance', wrap: (next) => next };

describe('MeshBuilder.build()', () => {
  it('builds a valid configuration', () => {
    expect(
      oneService((s) => s.discovery(ENDPOINTS).balancer(roundRobin()).layer(passThroughBalance)),
    ).toEqual([]);
  });

  it.each<[string, Parameters<MeshBuilder['service']>[1], RegExp]>([
    [
      'a service without discovery',
      (s) => s,
      /service 'users' has no discovery: call \.discovery\(staticEndpoints/,
    ],
    [
      'a discovery value that is not a resolver',
      (s) => s.discovery({ description: 'x' } as unknown as Resolver),
      /\.discovery\(\) needs a resolver such as staticEndpoints/,
    ],
    [
      'an empty static endpoint list',
      (s) => s.discovery(staticEndpoints([])),
      /was given no endpoints: list at least one/,
    ],
    [
      'a malformed static endpoint',
      (s) => s.discovery(staticEndpoints(['127.0.0.1:99999'])),
      /Invalid endpoint "127\.0\.0\.1:99999": the port must be an integer from 1 to 65535/,
    ],
    [
      'a balancer value that is not a factory',
      (s) => s.discovery(ENDPOINTS).balancer({ name: 'x' } as unknown as BalancerFactory),
      /\.balancer\(\) needs a balancer factory such as roundRobin\(\)/,
    ],
    [
      "a balancer factory's own complaint",
      (s) => s.discovery(ENDPOINTS).balancer({ ...roundRobin(), validate: () => ['choices must be >= 2'] }),
      /service 'users': choices must be >= 2/,
    ],
    [
      'an invalid extra host name',
      (s) => s.discovery(ENDPOINTS).hosts('Users_Prod'),
      /'Users_Prod' is not a valid host name/,
    ],
    [
      'a stack edit naming a missing layer',
      (s) => s.discovery(ENDPOINTS).stack((st) => st.remove('no-such-layer')),
      /service 'users': stack edit failed: The stack has no layer named 'no-such-layer'/,
    ],
    [
      'a layer() whose name is not in the stack',
      (s) => s.discovery(ENDPOINTS).layer({ name: 'retyr', wrap: (next) => next }),
      new RegExp(`no layer named 'retyr'\\. Its layers are: ${defaultStack().names.join(', ')}\\.`),
    ],
    [
      'a configure function that throws',
      () => {
        throw new Error('boom');
      },
      /service 'users': its configure function threw: boom/,
    ],
  ])('reports %s with its own clear message', (_what, configure, message) => {
    const problems = oneService(configure);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('rejects a service name that is not a host name', () => {
    expect(oneService((s) => s.discovery(ENDPOINTS), 'My Service')).toEqual([
      "service 'My Service': 'My Service' is not a valid host name (lower-case letters, digits, '-' and '.')",
    ]);
  });

  it('rejects a service defined twice and a host claimed by two services', () => {
    const problems = problemsOf(
      Mesh.builder()
        .service('users', (s) => s.discovery(ENDPOINTS).hosts('people'))
        .service('users', (s) => s.discovery(ENDPOINTS))
        .service('staff', (s) => s.discovery(ENDPOINTS).hosts('people')),
    );
    expect(problems).toEqual([
      "service 'users' is defined twice: configure it in one .service() call",
      "host 'people' is claimed by both 'users' and 'staff': a host can address one service",
    ]);
  });

  it.each<[string, TransportOptions, RegExp]>([
    ['connections below 1', { connections: 0 }, /transport\.connections must be an integer >= 1, got 0/],
    [
      'a fractional pipelining',
      { pipelining: 1.5 },
      /transport\.pipelining must be an integer >= 1, got 1\.5/,
    ],
    [
      'a negative keepAliveTimeout',
      { keepAliveTimeout: -1 },
      /transport\.keepAliveTimeout must be an integer >= 1/,
    ],
    [
      'a string connectTimeout',
      { connectTimeout: '3s' as never },
      /transport\.connectTimeout must be an integer >= 1, got "3s"/,
    ],
    ['a non-boolean http2', { http2: 'yes' as never }, /transport\.http2 must be true or false/],
    [
      'a misspelt option',
      { conections: 4 } as never,
      /unknown transport option 'conections' \(known: connections,/,
    ],
    [
      'tls that is not an object',
      { tls: 'ca.pem' as never },
      /transport\.tls must be an object such as tlsFromFiles/,
    ],
    [
      'http2 without TLS',
      { http2: true },
      /transport\.http2 needs TLS, because HTTP\/2 is negotiated during the TLS handshake/,
    ],
  ])('reports transport settings with %s, for a service', (_what, transport, message) => {
    const problems = oneService((s) => s.discovery(ENDPOINTS).transport(transport));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('reports mesh-wide transport problems once, under "mesh"', () => {
    const problems = problemsOf(
      Mesh.builder()
        .transport({ connections: -5 })
        .service('users', (s) => s.discovery(ENDPOINTS)),
    );
    expect(problems).toEqual(['mesh: transport.connections must be an integer >= 1, got -5']);
  });

  it('accepts http2 when TLS comes from the mesh-wide settings', () => {
    const problems = problemsOf(
      Mesh.builder()
        .transport({ tls: {} })
        .service('users', (s) => s.discovery(ENDPOINTS).transport({ http2: true })),
    );
    expect(problems).toEqual([]);
  });

  it.each([-1, 1.5, Number.NaN])('rejects closeTimeout(%s)', (ms) => {
    const problems = problemsOf(
      Mesh.builder()
        .closeTimeout(ms)
        .service('users', (s) => s.discovery(ENDPOINTS)),
    );
    expect(problems).toEqual([
      `closeTimeout must be an integer number of ms >= 0, got ${JSON.stringify(ms)}`,
    ]);
  });

  it('lists every problem of every service in one error', () => {
    const problems = problemsOf(
      Mesh.builder()
        .closeTimeout(-1)
        .stack((st) => st.remove('nope'))
        .service('a', (s) => s.transport({ connections: 0 }))
        .service('B', (s) => s.discovery(staticEndpoints([]))),
    );
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/closeTimeout/);
    expect(problems.join('\n')).toMatch(/mesh: stack edit failed/);
    expect(problems.join('\n')).toMatch(/service 'a' has no discovery/);
    expect(problems.join('\n')).toMatch(/service 'a': transport\.connections/);
    expect(problems.join('\n')).toMatch(/'B' is not a valid host name/);
    expect(problems.join('\n')).toMatch(/service 'B': staticEndpoints\(\) was given no endpoints/);
  });
});
