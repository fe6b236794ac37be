import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/index.js';
import { staticEndpoints } from '../../src/discovery/index.js';
import {
  defaultStack,
  type EndpointHandle,
  type EndpointView,
  isEndpointHandle,
  type Layer,
  Mesh,
  Stack,
} from '../../src/index.js';
import { createServiceBuilder, draftOf } from '../../src/mesh/service-builder.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let upstreams: Upstream[];
let mesh: Mesh | undefined;

beforeAll(async () => {
  upstreams = await startUpstreams('a', 'b', 'c');
});
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});
afterAll(async () => {
  await Promise.all(upstreams.map((u) => u.stop()));
});

/** One copy per endpoint: what each copy was built for and what it saw. */
interface Copy {
  endpoint: EndpointView;
  sent: number;
  others: number;
}

/** A per-endpoint layer that keeps its count in its own closure, as a user's layer would. */
function countPerEndpoint(copies: Copy[]): Layer {
  return {
    name: 'count-per-endpoint',
    wrap(next, handle) {
      if (!isEndpointHandle(handle)) throw new Error('built above balance');
      const copy: Copy = { endpoint: handle.endpoint, sent: 0, others: 0 };
      copies.push(copy);
      return (ctx) => {
        copy.sent++;
        if (ctx.endpoint !== handle.endpoint) copy.others++;
        return next(ctx);
      };
    },
  };
}

describe('the endpoint stack (the layers below balance, built for each endpoint)', () => {
  it("builds a user's per-endpoint layer once per endpoint; each copy sees only its endpoint's attempts", async () => {
    const copies: Copy[] = [];
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s
          .discovery(staticEndpoints(upstreams.map((u) => u.address)))
          .balancer(roundRobin())
          .endpointLayer(countPerEndpoint(copies)),
      )
      .build();
    for (let i = 0; i < 30; i++) {
      const res = await mesh.request({ service: 'svc', path: '/' });
      await res.body.text();
    }
    expect(copies.map((c) => c.endpoint.id).sort()).toEqual(upstreams.map((u) => u.address).sort());
    expect(copies.map((c) => c.sent)).toEqual([10, 10, 10]);
    expect(copies.every((c) => c.others === 0)).toBe(true);
  });

  it('puts the layer directly above transport, below health, and replaces one of the same name', () => {
    const service = createServiceBuilder('svc')
      .endpointLayer(countPerEndpoint([]))
      .endpointLayer(countPerEndpoint([]));
    const stack = draftOf(service).stackEdits.reduce((st, edit) => edit(st), defaultStack());
    expect(stack.split().endpoint?.names).toEqual([
      'tracing-attempt',
      'health',
      'count-per-endpoint',
      'transport',
    ]);
  });

  it('splits a stack below balance; a stack without balance stays whole', () => {
    const layer = (name: string, role?: string): Layer => ({
      name,
      ...(role && { role }),
      wrap: (next) => next,
    });
    const split = Stack.of(layer('a'), layer('pick', 'balance'), layer('b'), layer('c')).split();
    expect(split.service.names).toEqual(['a', 'pick']);
    expect(split.endpoint?.names).toEqual(['b', 'c']);
    const whole = Stack.of(layer('a'), layer('b')).split();
    expect(whole.service.names).toEqual(['a', 'b']);
    expect(whole.endpoint).toBeUndefined();
  });

  it('hands an endpoint stack the endpoint it serves and the one service-wide handle', async () => {
    const handles: EndpointHandle[] = [];
    mesh = Mesh.builder()
      .service('svc', (s) =>
        s.discovery(staticEndpoints(upstreams.map((u) => u.address))).endpointLayer({
          name: 'keep-handle',
          wrap(next, handle) {
            if (isEndpointHandle(handle)) handles.push(handle);
            return next;
          },
        }),
      )
      .build();
    const res = await mesh.request({ service: 'svc', path: '/' });
    await res.body.text();
    expect(handles).toHaveLength(3);
    expect(new Set(handles.map((h) => h.service)).size).toBe(1);
    expect(handles.every((h) => h.name === 'svc' && h.service.name === 'svc')).toBe(true);
    expect(handles[0]!.service.endpoints()).toContain(handles[0]!.endpoint);
  });
});
