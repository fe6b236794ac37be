import { describe, expect, it } from 'vitest';
import { type EndpointView, type Layer, RequestContext, testServiceHandle } from '../../src/index.js';

const endpoint = (id: string, state: EndpointView['state'] = 'active') => ({ id, state }) as EndpointView;

describe('testServiceHandle', () => {
  it('gives every member a default, and overrides win', () => {
    const handle = testServiceHandle({ name: 'users' });
    expect(handle.name).toBe('users');
    expect(handle.closed).toBe(false);
    expect(handle.endpoints()).toEqual([]);
    expect(handle.balancer.pick(new RequestContext({ service: 'users', path: '/' }))).toBeUndefined();
    expect(handle.waitForFirstEndpoints(new RequestContext({ service: 'users', path: '/' }))).toBeUndefined();
    expect(handle.lookup('other')).toBeUndefined();
    expect(handle.readings).toEqual({ retryBudget: undefined, rules: undefined });
  });

  it('balances over the active endpoints in turn and runs onEndpointAdded for each', () => {
    const set = [endpoint('a'), endpoint('b', 'ejected'), endpoint('c')];
    const handle = testServiceHandle({ endpoints: () => set });
    const ctx = new RequestContext({ service: 'test', path: '/' });
    const picks = [1, 2, 3, 4].map(() => handle.balancer.pick(ctx)?.id);
    expect(picks.sort()).toEqual(['a', 'a', 'c', 'c']);
    const added: string[] = [];
    handle.onEndpointAdded((e) => added.push(e.id));
    expect(added).toEqual(['a', 'b', 'c']);
  });

  it("runs a layer's cleanups on close() and its body-failure listeners on bodyFailed()", async () => {
    const seen: string[] = [];
    const layer: Layer = {
      name: 'probe',
      wrap: (next, service) => {
        service.onClose(() => void seen.push('closed'));
        service.onBodyFailure(() => seen.push('body failed'));
        return next;
      },
    };
    const handle = testServiceHandle();
    layer.wrap(() => Promise.reject(new Error('unused')), handle);
    handle.bodyFailed();
    await handle.close();
    await handle.close(); // cleanups run once
    expect(seen).toEqual(['body failed', 'closed']);
  });
});
