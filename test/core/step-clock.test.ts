import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeStep, openStep, stepNow } from '../../src/core/step-clock.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import {
  type Interception,
  interceptingLayer,
  type Layer,
  Mesh,
  type MeshResponse,
  RequestContext,
  Stack,
  testServiceHandle,
} from '../../src/index.js';
import { TIMEOUT_HEADER } from '../../src/resilience/timeout-header.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

/** Spins until `performance.now()` has moved past `t` (a few µs at most). */
function spinPast(t: number): void {
  while (performance.now() <= t) {
    // busy: the point is that time passes inside one synchronous step
  }
}

describe('the step clock (one clock reading per synchronous step)', () => {
  it('reads the clock afresh outside a step', () => {
    const first = stepNow();
    spinPast(first);
    expect(stepNow()).toBeGreaterThan(first);
  });

  it('gives every reader inside a step, nested steps included, the first reading', () => {
    openStep();
    try {
      const first = stepNow();
      spinPast(first);
      expect(stepNow()).toBe(first);
      openStep();
      try {
        expect(stepNow()).toBe(first);
      } finally {
        closeStep();
      }
      // The inner step closing does not drop the outer step's reading.
      expect(stepNow()).toBe(first);
    } finally {
      closeStep();
    }
  });

  it('drops the reading when the outermost step closes, even one left by a throw', () => {
    let inside = 0;
    expect(() => {
      openStep();
      try {
        inside = stepNow();
        throw new Error('a layer threw');
      } finally {
        closeStep();
      }
    }).toThrow('a layer threw');
    spinPast(inside);
    expect(stepNow()).toBeGreaterThan(inside);
    openStep();
    try {
      expect(stepNow()).toBeGreaterThan(inside);
    } finally {
      closeStep();
    }
  });

  it("shares one reading among a fused run's interceptors, and another among its interceptions", async () => {
    const entered: number[] = [];
    const unwound: number[] = [];
    const timing = (name: string): Layer =>
      interceptingLayer({
        name,
        intercept: () => () => {
          entered.push(stepNow());
          return {
            answered(response: MeshResponse) {
              unwound.push(stepNow());
              return response;
            },
            failed(error: unknown): never {
              throw error;
            },
          } satisfies Interception;
        },
      });
    const bottom = () =>
      new Promise<MeshResponse>((resolve) =>
        setTimeout(() => resolve({ statusCode: 200 } as MeshResponse), 5),
      );
    const service = Stack.of(timing('a'), timing('b'), timing('c')).build(testServiceHandle(), bottom);
    const sent = service(new RequestContext({ service: 's', path: '/' }));
    // The run's step closed when the call returned: outside it, the clock is read afresh.
    spinPast(entered[0] as number);
    expect(stepNow()).toBeGreaterThan(entered[0] as number);
    await sent;
    expect(new Set(entered).size).toBe(1);
    expect(new Set(unwound).size).toBe(1);
    expect(unwound[0]).toBeGreaterThanOrEqual((entered[0] as number) + 4);
  });
});

describe('the step clock on the production path (real upstream process)', () => {
  let upstream: Upstream;
  let mesh: Mesh;

  beforeAll(async () => {
    upstream = await startUpstream('step-clock');
    // A plain layer on top that waits before the rest of the stack runs, as a user's layer may.
    const waitsFirst: Layer = {
      name: 'waits-first',
      wrap: (next) => async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 80));
        return next(ctx);
      },
    };
    mesh = Mesh.builder()
      .service('direct', (s) => s.discovery(staticEndpoints([upstream.address])))
      .service('waiting', (s) =>
        s.discovery(staticEndpoints([upstream.address])).stack((stack) => stack.prepend(waitsFirst)),
      )
      .build();
  });

  afterAll(async () => {
    await mesh.close();
    await upstream.stop();
  });

  it('reads the clock once while mesh.request() sends a timed request: the deadline, its header and the attempt share it', async () => {
    // Warm up: connections made, first endpoints known.
    await (await mesh.request({ service: 'direct', path: '/echo', timeout: 2000 })).body.dump();
    const now = vi.spyOn(performance, 'now');
    let response: Promise<Awaited<ReturnType<Mesh['request']>>>;
    try {
      response = mesh.request({ service: 'direct', path: '/echo', timeout: 2000 });
      expect(now).toHaveBeenCalledTimes(1);
    } finally {
      now.mockRestore();
    }
    const echoed = (await (await response).body.json()) as { headers: Record<string, string> };
    expect(Number(echoed.headers[TIMEOUT_HEADER])).toBeGreaterThan(1900);
  });

  it('tells the upstream the time left after a layer above the deadline waited: a reading never outlives its step', async () => {
    const { body } = await mesh.request({ service: 'waiting', path: '/echo', timeout: 2000 });
    const echoed = (await body.json()) as { headers: Record<string, string> };
    const left = Number(echoed.headers[TIMEOUT_HEADER]);
    expect(left).toBeLessThanOrEqual(2000 - 80);
    expect(left).toBeGreaterThan(1000);
  });
});
