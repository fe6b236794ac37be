import { describe, expect, it } from 'vitest';
import type { EndpointInput } from '../../src/discovery/endpoint.js';
import type { Resolver } from '../../src/discovery/resolver.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { subsetOf } from '../../src/routing/subset.js';

/** Runs a resolver once and returns what it published, and for which service it was asked. */
function firstUpdate(resolver: Resolver, service: string): { asked: string[]; published: unknown } {
  const asked: string[] = [];
  let published: unknown;
  const spy: Resolver = {
    description: 'spy',
    resolve(sink, name) {
      asked.push(name);
      return resolver.resolve(sink, name);
    },
  };
  const subset = subsetOf(spy, { version: 'v2', zone: 'a' }, 'catalog');
  const sub = subset.resolve(
    {
      update: (eps) => (published = eps),
      set: () => undefined,
      delete: () => undefined,
      beginSnapshot: () => undefined,
      endSnapshot: () => undefined,
      error: (err) => (published = err),
    },
    service,
  );
  void sub.close();
  return { asked, published };
}

describe('subsetOf', () => {
  it('publishes only the endpoints carrying every label, asking the parent service', () => {
    const all: EndpointInput[] = [
      { host: '10.0.0.1', port: 80, metadata: { version: 'v2', zone: 'a' } },
      { host: '10.0.0.2', port: 80, metadata: { version: 'v2', zone: 'b' } },
      { host: '10.0.0.3', port: 80, metadata: { version: 'v1', zone: 'a' } },
      { host: '10.0.0.4', port: 80 },
      '10.0.0.5:80',
    ];
    const { asked, published } = firstUpdate(staticEndpoints(all), 'catalog-v2');
    expect(asked).toEqual(['catalog']);
    expect(published).toEqual([all[0]]);
  });

  it('reports a subset without labels as a configuration problem', () => {
    expect(subsetOf(staticEndpoints(['10.0.0.1:80']), {}).validate?.()).toEqual([
      expect.stringMatching(/needs at least one label/),
    ]);
  });
});
