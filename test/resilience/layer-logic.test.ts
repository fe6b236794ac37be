// Algorithm tests of the deadline and hedge layers around an in-process `next` (a stand-in for
// the balance and transport layers, no network), so every interleaving can be driven exactly.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventEmitter as EventEmitter3 } from 'eventemitter3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import { ErrorCode, isTrellisError, TrellisError } from '../../src/core/errors.js';
import type { MeshEvents } from '../../src/core/events.js';
import { getHeader } from '../../src/core/headers.js';
import type { MeshResponse, Service } from '../../src/core/layer.js';
import { testServiceHandle } from '../../src/index.js';
import { deadlines } from '../../src/resilience/deadline-layer.js';
import { hedging } from '../../src/resilience/hedge-layer.js';
import { runInbound } from '../../src/resilience/inbound.js';
import { TIMEOUT_HEADER } from '../../src/resilience/timeout-header.js';
import { ManualClock } from '../support/manual-clock.js';

const events = new EventEmitter3<MeshEvents>();
const handle = testServiceHandle({ name: 's', events });

class FakeBody extends EventEmitter {
  destroyed = false;
  dumped = false;
  async dump(): Promise<void> {
    this.dumped = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

function response(statusCode: number): MeshResponse {
  return { statusCode, headers: {}, body: new FakeBody() } as unknown as MeshResponse;
}

/** A stand-in inbound request carrying `timeout` in the header (undefined = no header). */
function inbound(timeout: number | undefined): [IncomingMessage, ServerResponse] {
  const req = {
    method: 'GET',
    url: '/',
    headers: timeout === undefined ? {} : { [TIMEOUT_HEADER]: String(timeout) },
  };
  const res = Object.assign(new EventEmitter(), { writableFinished: false });
  return [req as unknown as IncomingMessage, res as unknown as ServerResponse];
}

describe('deadline layer (in-process next)', () => {
  it('sends down the earliest of the request timeout, the service default and the inbound remaining time', async () => {
    const maybe = fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(maybe, maybe, maybe, async (own, serviceDefault, inherited) => {
        let seen: { deadline: number; header: string | undefined; at: number } | undefined;
        const next: Service = async (ctx) => {
          seen = {
            deadline: ctx.deadline,
            header: getHeader(ctx.headers, TIMEOUT_HEADER),
            at: performance.now(),
          };
          return response(200);
        };
        const call = deadlines({ timeoutMs: serviceDefault }).wrap(next, handle);
        const [req, res] = inbound(inherited);
        const started = performance.now();
        const answer = await runInbound(req, res, () =>
          call(new RequestContext({ service: 's', path: '/', timeout: own })),
        );
        (answer.body as unknown as FakeBody).destroy();
        const expected = Math.min(
          own ?? serviceDefault ?? Number.POSITIVE_INFINITY,
          inherited ?? Number.POSITIVE_INFINITY,
        );
        if (expected === Number.POSITIVE_INFINITY) {
          expect(seen!.deadline).toBe(Number.POSITIVE_INFINITY);
          expect(seen!.header).toBeUndefined();
          return;
        }
        // Each deadline was set between `started` and the moment `next` saw it.
        expect(seen!.deadline).toBeGreaterThanOrEqual(started + expected);
        expect(seen!.deadline).toBeLessThanOrEqual(seen!.at + expected);
        expect(Number(seen!.header)).toBeLessThanOrEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});

describe('hedge layer (in-process next, on a hand-moved clock)', () => {
  /** A hedged service whose attempts are answered by `answers[i]` (called with the attempt's signal). */
  function hedged(answers: Array<(signal: EventEmitter) => Promise<MeshResponse>>) {
    let i = 0;
    const next: Service = (ctx) => answers[Math.min(i++, answers.length - 1)]!(ctx.signal as EventEmitter);
    const call = hedging({ minSamples: 2, maxExtraLoad: 1, clock }).wrap(next, handle);
    return { call, attempts: () => i };
  }

  const clock = new ManualClock();

  const answerAfter = (ms: number, value: () => MeshResponse | Error) => () =>
    new Promise<MeshResponse>((resolve, reject) =>
      clock.setTimeout(
        () => {
          const v = value();
          if (v instanceof Error) reject(v);
          else resolve(v);
        },
        ms,
        undefined,
      ),
    );

  /** Calls the service and moves the clock on by `ms` before waiting for the answer. */
  async function callFor(call: Service, ms: number, init: { method?: string; signal?: AbortSignal } = {}) {
    const answer = call(new RequestContext({ service: 's', path: '/', ...init }));
    await clock.advance(ms);
    return answer;
  }

  async function warm(call: Service): Promise<void> {
    // Two 1 ms answers (the minimum sample count) teach the window a p95 of 1 ms.
    for (let k = 0; k < 2; k++) await callFor(call, 1);
  }

  it('takes the backup when the primary is slow, cancels the primary, and reports both', async () => {
    const cancelled: unknown[] = [];
    const slow = (signal: EventEmitter) =>
      new Promise<MeshResponse>((_resolve, reject) => {
        signal.once('abort', () => {
          cancelled.push((signal as unknown as { reason: unknown }).reason);
          reject((signal as unknown as { reason: unknown }).reason);
        });
      });
    const fast = answerAfter(1, () => response(200));
    const { call, attempts } = hedged([fast, fast, slow, answerAfter(5, () => response(201))]);
    await warm(call);
    const reported: string[] = [];
    const onHedge = (_service: string, outcome: string) => reported.push(outcome);
    events.on('hedge', onHedge);
    const answer = call(new RequestContext({ service: 's', path: '/' }));
    // Before the p95 (1 ms) has passed, only the primary is out.
    await clock.advance(0);
    expect(attempts()).toBe(3);
    await clock.advance(1);
    expect(attempts()).toBe(4);
    await clock.advance(5);
    const res = await answer;
    events.off('hedge', onHedge);
    expect(res.statusCode).toBe(201);
    expect(reported).toEqual(['sent', 'won']);
    expect(cancelled).toHaveLength(1);
    expect(isTrellisError(cancelled[0], ErrorCode.Aborted)).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it("re-stamps a backup's timeout header through the deadline layer's AttemptStamp, in a copy, leaving the primary's", async () => {
    const seen: Array<{ headers: unknown; header: string | undefined }> = [];
    const slow = (signal: EventEmitter) =>
      new Promise<MeshResponse>((_resolve, reject) => {
        signal.once('abort', () => reject((signal as unknown as { reason: unknown }).reason));
      });
    let i = 0;
    const answers = [answerAfter(1, () => response(200)), answerAfter(1, () => response(200)), slow];
    const next: Service = (ctx) => {
      seen.push({ headers: ctx.headers, header: getHeader(ctx.headers, TIMEOUT_HEADER) });
      return (answers[i++] ?? answerAfter(1, () => response(201)))(ctx.signal as EventEmitter);
    };
    const call = deadlines({ timeoutMs: 60_000 }).wrap(
      hedging({ minSamples: 2, maxExtraLoad: 1, clock }).wrap(next, handle),
      handle,
    );
    await warm(call);
    const answer = call(new RequestContext({ service: 's', path: '/' }));
    await clock.advance(1);
    await clock.advance(1);
    const res = await answer;
    (res.body as unknown as FakeBody).destroy();
    expect(res.statusCode).toBe(201);
    const [primary, backup] = seen.slice(2);
    expect(backup!.headers).not.toBe(primary!.headers);
    expect(Number(backup!.header)).toBeLessThanOrEqual(Number(primary!.header));
    expect(getHeader(primary!.headers as never, TIMEOUT_HEADER)).toBe(primary!.header);
  });

  it('waits for the backup when the primary fails while the backup is running', async () => {
    const fast = answerAfter(1, () => response(200));
    const { call } = hedged([
      fast,
      fast,
      answerAfter(80, () => new Error('reset')),
      answerAfter(100, () => response(202)),
    ]);
    await warm(call);
    expect((await callFor(call, 200)).statusCode).toBe(202);
  });

  it('returns the 5xx answer rather than the error when both attempts fail', async () => {
    const fast = answerAfter(1, () => response(200));
    const { call } = hedged([
      fast,
      fast,
      answerAfter(80, () => response(503)),
      answerAfter(100, () => new TrellisError(ErrorCode.UpstreamUnavailable, 'down')),
    ]);
    await warm(call);
    expect((await callFor(call, 200)).statusCode).toBe(503);
  });

  it('dumps the body of a losing answer that arrives after the winner', async () => {
    const late = response(200);
    const fast = answerAfter(1, () => response(200));
    const { call } = hedged([fast, fast, answerAfter(80, () => late), answerAfter(2, () => response(204))]);
    await warm(call);
    // The primary ignores its cancel signal here, as a server that answers anyway would.
    const res = await callFor(call, 3);
    expect(res.statusCode).toBe(204);
    expect((late.body as unknown as FakeBody).dumped).toBe(false);
    await clock.advance(80);
    expect((late.body as unknown as FakeBody).dumped).toBe(true);
  });

  it('hands the attempt an already-fired signal when the caller aborted before the call', async () => {
    const seen: boolean[] = [];
    const fast = answerAfter(1, () => response(200));
    const { call } = hedged([
      fast,
      fast,
      async (signal) => {
        seen.push((signal as unknown as { aborted: boolean }).aborted);
        return response(200);
      },
    ]);
    await warm(call);
    const caller = new AbortController();
    caller.abort();
    await callFor(call, 0, { signal: caller.signal });
    expect(seen).toEqual([true]);
  });

  it('never sends a backup for a non-idempotent request', async () => {
    const fast = answerAfter(1, () => response(200));
    const { call, attempts } = hedged([fast, fast, answerAfter(80, () => response(200))]);
    await warm(call);
    await callFor(call, 80, { method: 'POST' });
    expect(attempts()).toBe(3);
  });
});
