import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { routes, useThreeRoutes } from './three-routes.js';

useThreeRoutes();

/**
 * An old-generation handler (onConnect/onHeaders/onData/onComplete/onError), the kind Node 20's
 * built-in fetch still uses, recording what it gets; `plan` says when it pauses or aborts.
 */
class LegacyHandler {
  readonly events: string[] = [];
  abort: ((err?: Error) => void) | undefined;
  resume: (() => void) | undefined;
  readonly done: Promise<void>;
  #done!: () => void;

  constructor(readonly plan: 'pause-headers' | 'pause-data' | 'abort-connect' | 'abort-data') {
    this.done = new Promise((resolve) => {
      this.#done = resolve;
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    this.events.push('connect');
    if (this.plan === 'abort-connect') abort(new Error('stop'));
  }

  onHeaders(statusCode: number, _raw: Buffer[], resume: () => void): boolean {
    this.resume = resume;
    this.events.push(`headers ${statusCode}`);
    return this.plan !== 'pause-headers';
  }

  onData(chunk: Buffer): boolean {
    this.events.push(`data ${chunk.toString()}`);
    if (this.plan === 'abort-data') this.abort?.(new Error('stop'));
    return !(this.plan === 'pause-data' && this.events.filter((e) => e.startsWith('data')).length === 1);
  }

  onComplete(): void {
    this.events.push('complete');
    this.#done();
  }

  onError(): void {
    this.events.push('error');
    this.#done();
  }
}

function send(dispatcher: Dispatcher, origin: string, path: string, handler: LegacyHandler): void {
  dispatcher.dispatch({ origin, path, method: 'GET' }, handler as unknown as Dispatcher.DispatchHandler);
}

describe('old-generation handlers (onConnect, onHeaders, onData), as Node 20 fetch drives them', () => {
  for (const plan of ['pause-headers', 'pause-data'] as const) {
    it(`${plan}: returning false holds the body until resume(), then all of it arrives`, async () => {
      for (const [name, dispatcher, origin] of routes()) {
        const handler = new LegacyHandler(plan);
        send(dispatcher, origin, '/stream?n=3&ms=5', handler);
        await sleep(400);
        const held = plan === 'pause-headers' ? 0 : 1;
        expect(handler.events.filter((e) => e.startsWith('data')).length, name).toBe(held);
        handler.resume?.();
        await handler.done;
        expect(handler.events, name).toEqual([
          'connect',
          'headers 200',
          'data chunk-0\n',
          'data chunk-1\n',
          'data chunk-2\n',
          'complete',
        ]);
      }
    });
  }

  for (const plan of ['abort-connect', 'abort-data'] as const) {
    it(`${plan}: aborting through onConnect's callback ends with one onError, as in undici`, async () => {
      const seen: string[][] = [];
      for (const [name, dispatcher, origin] of routes()) {
        const handler = new LegacyHandler(plan);
        send(dispatcher, origin, '/stream?n=3&ms=50', handler);
        await handler.done;
        await sleep(150);
        expect(handler.events.filter((e) => e === 'error').length, name).toBe(1);
        expect(handler.events.at(-1), name).toBe('error');
        seen.push(handler.events);
      }
      expect(seen[1], plan).toEqual(seen[0]);
      expect(seen[2], plan).toEqual(seen[0]);
    });
  }
});
