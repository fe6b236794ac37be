import { describe, expect, it } from 'vitest';
import {
  defaultStack,
  ErrorCode,
  isTrellisError,
  type Layer,
  type MeshResponse,
  RequestContext,
  type Service,
  Stack,
  testServiceHandle,
} from '../../src/index.js';

/** A layer that records its name on the way down, so tests can see the order requests take. */
function tracer(name: string, trail: string[]): Layer {
  return {
    name,
    wrap: (next) => (ctx) => {
      trail.push(name);
      return next(ctx);
    },
  };
}

/** A bottom layer that answers without a network (unit tests of the stack only). */
const answer: Layer = {
  name: 'answer',
  wrap: () => () => Promise.resolve({ statusCode: 204 } as MeshResponse),
};

// The stack only hands the handle to layers; these layers never read it.
const handle = testServiceHandle();

async function run(stack: Stack): Promise<void> {
  await stack.build(handle)(new RequestContext({ service: 's', path: '/' }));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('Stack', () => {
  it('runs layers top to bottom in the order given', async () => {
    const trail: string[] = [];
    await run(Stack.of(tracer('a', trail), tracer('b', trail), tracer('c', trail), answer));
    expect(trail).toEqual(['a', 'b', 'c']);
  });

  it('inserts before and after a named layer, and prepends and appends', () => {
    const t: string[] = [];
    const stack = Stack.of(tracer('b', t), tracer('d', t))
      .insertBefore('d', tracer('c', t))
      .insertAfter('d', tracer('e', t))
      .prepend(tracer('a', t))
      .append(answer);
    expect(stack.names).toEqual(['a', 'b', 'c', 'd', 'e', 'answer']);
  });

  it('replaces a layer in place, keeping its position', async () => {
    const first: string[] = [];
    const second: string[] = [];
    const stack = Stack.of(tracer('a', first), tracer('b', first), answer).replace(tracer('a', second));
    expect(stack.names).toEqual(['a', 'b', 'answer']);
    await run(stack);
    expect(second).toEqual(['a']);
    expect(first).toEqual(['b']);
  });

  it('removes a layer by name', () => {
    const t: string[] = [];
    expect(Stack.of(tracer('a', t), tracer('b', t), answer).remove('a').names).toEqual(['b', 'answer']);
  });

  it('never changes the stack an edit started from', () => {
    const t: string[] = [];
    const base = Stack.of(tracer('a', t), answer);
    base.insertBefore('a', tracer('z', t));
    base.remove('a');
    expect(base.names).toEqual(['a', 'answer']);
  });

  it('finds layers by name', () => {
    const a = tracer('a', []);
    const stack = Stack.of(a, answer);
    expect(stack.has('a')).toBe(true);
    expect(stack.has('zzz')).toBe(false);
    expect(stack.get('a')).toBe(a);
  });

  it('rejects an edit that names a missing layer, listing the layers it has', () => {
    const err = thrown(() => Stack.of(tracer('a', []), answer).insertBefore('retry', tracer('x', [])));
    expect(isTrellisError(err, ErrorCode.InvalidConfig)).toBe(true);
    expect((err as Error).message).toBe("The stack has no layer named 'retry'. Its layers are: a, answer.");
  });

  it('rejects two layers with the same name', () => {
    const err = thrown(() => defaultStack().prepend(tracer('balance', [])));
    expect((err as Error).message).toMatch(/Two layers are named 'balance'/);
  });

  it('rejects something that is not a layer', () => {
    const err = thrown(() => Stack.of({ name: 'x' } as unknown as Layer));
    expect((err as Error).message).toMatch(/string `name` and a `wrap\(next, service\)` function/);
  });

  it('builds each layer once per service, not per request', async () => {
    let wraps = 0;
    const counting: Layer = {
      name: 'counting',
      wrap(next: Service) {
        wraps++;
        return next;
      },
    };
    const service = Stack.of(counting, answer).build(handle);
    await service(new RequestContext({ service: 's', path: '/' }));
    await service(new RequestContext({ service: 's', path: '/' }));
    expect(wraps).toBe(1);
  });

  it('fails a request that falls off the bottom with advice to add a transport', async () => {
    const t: string[] = [];
    await expect(run(Stack.of(tracer('a', t)))).rejects.toMatchObject({
      code: ErrorCode.InvalidConfig,
      message: expect.stringMatching(/add a transport layer/),
    });
  });
});

describe('Stack.place (what s.layer(x) does)', () => {
  const named = (name: string): Layer => ({ name, wrap: (next) => next });

  it('inserts opt-in layers at their canonical rank, whatever order they are given in', () => {
    const stack = defaultStack()
      .place(named('concurrency'))
      .place(named('metrics'))
      .place(named('rate-limit'))
      .place(named('throttle'));
    expect(stack.names).toEqual([
      'metrics',
      'route',
      'tracing',
      'deadline',
      'breaker',
      'retry',
      'hedge',
      'rate-limit',
      'throttle',
      'concurrency',
      'balance',
      'tracing-attempt',
      'health',
      'transport',
    ]);
  });

  it('replaces a layer of the same name in its position', () => {
    const replacement = named('retry');
    const stack = defaultStack().place(replacement);
    expect(stack.names).toEqual(defaultStack().names);
    expect(stack.get('retry')).toBe(replacement);
  });

  it('refuses a new layer whose role has no rank, saying how to place it', () => {
    expect(() => defaultStack().place(named('audit'))).toThrow(/insertBefore/);
  });
});
