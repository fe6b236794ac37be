import { createHook } from 'node:async_hooks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callNext } from '../../src/core/call-next.js';
import { dispatching } from '../../src/core/fused-run.js';
import {
  type Interception,
  type Interceptor,
  interceptingLayer,
  type Layer,
  type MeshResponse,
  RequestContext,
  type Service,
  Stack,
  testServiceHandle,
} from '../../src/index.js';

// A stack builds adjacent intercepting layers into one step (src/core/fused-run.ts). These tests
// hold that step to the chain of one `then` per layer it replaces: the same calls in the same
// order, the same outcome, whatever each layer does with it; and they check that it is one step.

type OnAnswer = 'keep' | 'replace' | 'throw' | 'async';
type OnFailure = 'rethrow' | 'recover' | 'throw-other' | 'async-recover';
type Enter = 'pass' | 'intercept' | 'throw' | 'settle';

interface LayerPlan {
  /** An intercepting layer, a plain one with a `then` of its own, or a plain one switched off. */
  kind: 'intercepting' | 'plain' | 'off';
  enter: Enter;
  onAnswer: OnAnswer;
  onFailure: OnFailure;
}

type Bottom = 'answer' | 'reject' | 'throw';

const response = (statusCode: number): MeshResponse => ({ statusCode }) as MeshResponse;

/** One layer's per-call behaviour, the same whichever form it is built in; it writes to `trail`. */
function behaviour(name: string, plan: LayerPlan, trail: string[]) {
  const interception: Interception = {
    answered(r) {
      trail.push(`${name} answered ${r.statusCode}`);
      switch (plan.onAnswer) {
        case 'keep':
          return r;
        case 'replace':
          return response(r.statusCode + 1);
        case 'throw':
          throw new Error(`${name} refused ${r.statusCode}`);
        case 'async':
          return Promise.resolve().then(() => {
            trail.push(`${name} later`);
            return response(r.statusCode + 100);
          });
      }
    },
    failed(error) {
      trail.push(`${name} failed ${(error as Error).message}`);
      switch (plan.onFailure) {
        case 'rethrow':
          throw error;
        case 'recover':
          return response(299);
        case 'throw-other':
          throw new Error(`${name} replaced it`);
        case 'async-recover':
          return Promise.resolve().then(() => {
            trail.push(`${name} recovered later`);
            return response(298);
          });
      }
    },
  };
  /** The layer's interceptor over `next` (the rest of the stack below it). */
  return (next: Service): Interceptor =>
    (ctx) => {
      trail.push(`${name} enter`);
      switch (plan.enter) {
        case 'pass':
          return undefined;
        case 'intercept':
          return interception;
        case 'throw':
          throw new Error(`${name} threw`);
        case 'settle':
          // A path of its own (as the half-open breaker's probe): it calls the rest itself.
          return callNext(next, ctx).then(
            (r) => response(r.statusCode + 10),
            () => response(410),
          );
      }
    };
}

/** The layer built with `intercept`, fused with its intercepting neighbours. */
function fusedLayer(name: string, plan: LayerPlan, trail: string[]): Layer {
  const make = behaviour(name, plan, trail);
  if (plan.kind === 'off') return { name, wrap: (next) => next };
  if (plan.kind === 'plain') return plainLayer(name, plan, trail);
  return interceptingLayer({ name, intercept: (next) => make(next) });
}

/** The reference: the same behaviour as a plain layer, one `then` of its own per call. */
function plainLayer(name: string, plan: LayerPlan, trail: string[]): Layer {
  const make = behaviour(name, plan, trail);
  if (plan.kind === 'off') return { name, wrap: (next) => next };
  return {
    name,
    wrap(next) {
      const interceptor = make(next);
      return (ctx) => {
        let entered: ReturnType<Interceptor>;
        try {
          entered = interceptor(ctx);
        } catch (err) {
          return Promise.reject(err);
        }
        if (entered === undefined) return callNext(next, ctx);
        if (entered instanceof Promise) return entered;
        return callNext(next, ctx).then(
          (r) => entered.answered(r),
          (e) => entered.failed(e),
        );
      };
    },
  };
}

function bottomOf(bottom: Bottom, trail: string[]): Service {
  return () => {
    trail.push(`bottom ${bottom}`);
    if (bottom === 'throw') throw new Error('bottom threw');
    return bottom === 'answer' ? Promise.resolve(response(200)) : Promise.reject(new Error('bottom failed'));
  };
}

async function outcomeOf(service: Service): Promise<string> {
  try {
    return `answered ${(await service(new RequestContext({ service: 's', path: '/' }))).statusCode}`;
  } catch (err) {
    return `failed ${(err as Error).message}`;
  }
}

/**
 * Builds `plans` as a service stack, or, with `endpointPlans`, as a service stack over a
 * dispatching bottom that hands each call to an endpoint stack of `endpointPlans` (as the mesh
 * hands each attempt to the chosen endpoint's stack).
 */
function build(
  make: (name: string, plan: LayerPlan, trail: string[]) => Layer,
  plans: LayerPlan[],
  endpointPlans: LayerPlan[] | undefined,
  bottom: Bottom,
  trail: string[],
  dispatch: (select: (ctx: RequestContext) => Service) => Service,
): Service {
  const handle = testServiceHandle();
  const layers = (list: LayerPlan[], prefix: string) =>
    list.map((plan, i) => make(`${prefix}${i}`, plan, trail));
  if (endpointPlans === undefined)
    return Stack.of(...layers(plans, 's')).build(handle, bottomOf(bottom, trail));
  const endpoint = Stack.of(...layers(endpointPlans, 'e')).build(handle, bottomOf(bottom, trail));
  return Stack.of(...layers(plans, 's')).build(
    handle,
    dispatch(() => endpoint),
  );
}

async function runBoth(plans: LayerPlan[], bottom: Bottom, endpointPlans?: LayerPlan[]) {
  const fusedTrail: string[] = [];
  const plainTrail: string[] = [];
  const fused = build(fusedLayer, plans, endpointPlans, bottom, fusedTrail, dispatching);
  const plain = build(
    plainLayer,
    plans,
    endpointPlans,
    bottom,
    plainTrail,
    (select) => (ctx) => select(ctx)(ctx),
  );
  return {
    fused: { outcome: await outcomeOf(fused), trail: fusedTrail },
    plain: { outcome: await outcomeOf(plain), trail: plainTrail },
  };
}

const planArbitrary: fc.Arbitrary<LayerPlan> = fc.record({
  kind: fc.constantFrom('intercepting', 'intercepting', 'intercepting', 'plain', 'off'),
  enter: fc.constantFrom('pass', 'intercept', 'intercept', 'intercept', 'throw', 'settle'),
  onAnswer: fc.constantFrom('keep', 'keep', 'replace', 'throw', 'async'),
  onFailure: fc.constantFrom('rethrow', 'rethrow', 'recover', 'throw-other', 'async-recover'),
});

describe('intercepting layers built into one step', () => {
  it('call the same continuations in the same order, with the same outcome, as one then per layer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(planArbitrary, { minLength: 1, maxLength: 7 }),
        fc.constantFrom<Bottom>('answer', 'reject', 'throw'),
        async (plans, bottom) => {
          const { fused, plain } = await runBoth(plans, bottom);
          expect(fused.trail).toEqual(plain.trail);
          expect(fused.outcome).toBe(plain.outcome);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('continue into the run of the service a dispatching bottom picks, as one stack would', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(planArbitrary, { minLength: 1, maxLength: 5 }),
        fc.array(planArbitrary, { minLength: 0, maxLength: 4 }),
        fc.constantFrom<Bottom>('answer', 'reject', 'throw'),
        async (plans, endpointPlans, bottom) => {
          const { fused, plain } = await runBoth(plans, bottom, endpointPlans);
          expect(fused.trail).toEqual(plain.trail);
          expect(fused.outcome).toBe(plain.outcome);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keep their frames apart when many calls are in flight and end in any order', async () => {
    // Each call's layers tag the status with the call's own number, so a frame that carried
    // another call's interceptions would hand back the wrong one.
    const tagging = (name: string): Layer =>
      interceptingLayer({
        name,
        intercept: () => (ctx) => {
          const own = ctx.attempt;
          return {
            answered: (r) => (r.statusCode === own ? r : response(-1)),
            failed: (e) => {
              throw e;
            },
          };
        },
      });
    const waiting: Array<() => void> = [];
    const service = Stack.of(tagging('a'), tagging('b'), tagging('c')).build(
      testServiceHandle(),
      (ctx) =>
        new Promise((resolve) => {
          waiting.push(() => resolve(response(ctx.attempt)));
        }),
    );
    // Calls start while others end, so frames given back are taken again by later calls.
    const random = fc.sample(fc.integer({ min: 0, max: 2 ** 30 }), { numRuns: 2000, seed: 3 });
    const calls: Array<Promise<MeshResponse>> = [];
    for (let wave = 0; wave < 20; wave++) {
      for (let i = 0; i < 50; i++) {
        const ctx = new RequestContext({ service: 's', path: '/' });
        ctx.attempt = calls.length;
        calls.push(service(ctx));
      }
      for (let ended = 0; ended < 30 && waiting.length > 0; ended++) {
        const at = random[(wave * 30 + ended) % random.length]! % waiting.length;
        waiting.splice(at, 1)[0]!();
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const resolve of waiting.splice(0)) resolve();
    const answers = await Promise.all(calls);
    expect(answers.map((r) => r.statusCode)).toEqual(calls.map((_, i) => i));
  });

  it('cost one promise per call however many layers the run has, and a plain layer between them splits it', async () => {
    const counting = (name: string): Layer =>
      interceptingLayer({
        name,
        intercept: () => () => ({
          answered: (r) => r,
          failed: (e) => {
            throw e;
          },
        }),
      });
    const passing: Layer = { name: 'passing', wrap: (next) => (ctx) => next(ctx) };
    const off: Layer = { name: 'off', wrap: (next) => next };
    const bottom: Service = () => Promise.resolve(response(200));
    const promisesPerCall = async (stack: Stack): Promise<number> => {
      const service = stack.build(testServiceHandle(), bottom);
      const ctx = new RequestContext({ service: 's', path: '/' });
      let promises = 0;
      const hook = createHook({
        init(_id, type) {
          if (type === 'PROMISE') promises++;
        },
      });
      hook.enable();
      const answered = service(ctx);
      hook.disable();
      await answered;
      return promises;
    };
    const one = await promisesPerCall(Stack.of(counting('a')));
    const five = await promisesPerCall(
      Stack.of(counting('a'), counting('b'), off, counting('c'), counting('d'), counting('e')),
    );
    const split = await promisesPerCall(Stack.of(counting('a'), counting('b'), passing, counting('c')));
    const endpointStack = Stack.of(counting('health')).build(testServiceHandle(), bottom);
    const acrossDispatch = await promisesPerCall(
      Stack.of(counting('a'), counting('balance')).append({
        name: 'to-endpoint',
        wrap: () => dispatching(() => endpointStack),
      }),
    );
    expect(one).toBe(2); // the bottom's answer and the run's one `then`
    expect(five).toBe(one);
    expect(split).toBe(one + 1);
    expect(acrossDispatch).toBe(one);
  });
});
