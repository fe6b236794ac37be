import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import type { MeshResponse, Service } from '../../src/core/layer.js';
import { CompiledRoutes } from '../../src/routing/compile.js';
import { parseServiceRoutes } from '../../src/routing/parse-rules.js';
import { RANDOM_RANGE, SplitRandom, threshold } from '../../src/routing/split-random.js';

/** Stand-in backends (the split algorithm only needs to know which one was called). */
function countingBackends(names: readonly string[]) {
  const counts = new Map(names.map((n) => [n, 0]));
  const response = Promise.resolve({} as MeshResponse);
  const lookup = (name: string): Service | undefined =>
    counts.has(name)
      ? () => {
          counts.set(name, counts.get(name)! + 1);
          return response;
        }
      : undefined;
  return { counts, lookup };
}

const fallback: Service = () => Promise.reject(new Error('no route matched'));

describe('traffic split (stand-in backends, seeded random)', () => {
  it('sends each backend its weight share of requests, within five standard deviations', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 5 })
          .filter((w) => w.some((x) => x > 0)),
        fc.integer(),
        (weights, seed) => {
          const names = weights.map((_, i) => `b${i}`);
          const { counts, lookup } = countingBackends(names);
          const rules = parseServiceRoutes({
            routes: [{ split: names.map((backend, i) => ({ backend, weight: weights[i]! })) }],
          });
          const routes = new CompiledRoutes(rules, lookup, fallback, new SplitRandom(seed));
          const n = 4000;
          const ctx = new RequestContext({ service: 'svc', path: '/' });
          for (let i = 0; i < n; i++) void routes.handle(ctx);
          const total = weights.reduce((a, b) => a + b, 0);
          names.forEach((name, i) => {
            const p = weights[i]! / total;
            const sigma = Math.sqrt(n * p * (1 - p));
            expect(Math.abs(counts.get(name)! - n * p)).toBeLessThanOrEqual(5 * sigma + 1);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never sends a request to a backend of weight zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer(), (weight, seed) => {
        const { counts, lookup } = countingBackends(['live', 'off']);
        const rules = parseServiceRoutes({
          routes: [
            {
              split: [
                { backend: 'off', weight: 0 },
                { backend: 'live', weight },
              ],
            },
          ],
        });
        const routes = new CompiledRoutes(rules, lookup, fallback, new SplitRandom(seed));
        const ctx = new RequestContext({ service: 'svc', path: '/' });
        for (let i = 0; i < 500; i++) void routes.handle(ctx);
        expect(counts.get('off')).toBe(0);
        expect(counts.get('live')).toBe(500);
      }),
      { numRuns: 30 },
    );
  });

  it('sends the first matching route its requests and the rest to the service itself', () => {
    const { counts, lookup } = countingBackends(['canary', 'debug']);
    let fellThrough = 0;
    const own: Service = () => {
      fellThrough++;
      return Promise.resolve({} as MeshResponse);
    };
    const rules = parseServiceRoutes({
      routes: [
        { match: { headers: { 'x-canary': '1' } }, backend: 'canary' },
        { match: { path: { regex: '^/debug/' }, method: 'GET' }, backend: 'debug' },
        { match: { headers: { 'x-debug': { present: true } } }, backend: 'debug' },
      ],
    });
    const routes = new CompiledRoutes(rules, lookup, own, new SplitRandom(1));
    const send = (path: string, headers?: Record<string, string> | string[], method = 'GET') =>
      routes.handle(new RequestContext({ service: 'svc', path, headers, method }));
    void send('/users', { 'X-Canary': '1' });
    void send('/users', ['x-canary', '1']);
    void send('/users', { 'x-canary': '0' });
    void send('/debug/vars');
    void send('/debug/vars', undefined, 'POST');
    void send('/users', { 'x-debug': '' });
    expect(counts.get('canary')).toBe(2);
    expect(counts.get('debug')).toBe(2);
    expect(fellThrough).toBe(2);
  });

  it('matches an exact path with or without a query string, and nothing longer', () => {
    const { counts, lookup } = countingBackends(['exact']);
    const rules = parseServiceRoutes({
      routes: [{ match: { path: { exact: '/v1/users' } }, backend: 'exact' }],
    });
    const routes = new CompiledRoutes(
      rules,
      lookup,
      () => Promise.resolve({} as MeshResponse),
      new SplitRandom(1),
    );
    for (const path of ['/v1/users', '/v1/users?id=1', '/v1/users/1', '/v1/usersx', '/v1/use']) {
      void routes.handle(new RequestContext({ service: 'svc', path }));
    }
    expect(counts.get('exact')).toBe(2);
  });

  it('draws below a share threshold with that share of probability, within five standard deviations', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (share, seed) => {
        const random = new SplitRandom(seed);
        const limit = threshold(share);
        const n = 4000;
        let below = 0;
        let outOfRange = 0;
        for (let i = 0; i < n; i++) {
          const draw = random.next();
          if (!(draw >= 0 && draw < RANDOM_RANGE && Number.isInteger(draw))) outOfRange++;
          if (draw < limit) below++;
        }
        expect(outOfRange).toBe(0);
        expect(Math.abs(below - n * share)).toBeLessThanOrEqual(5 * Math.sqrt(n * share * (1 - share)) + 1);
      }),
      { numRuns: 50 },
    );
  });
});
