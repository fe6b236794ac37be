import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { type HandlerEvent, RecordingHandler } from './recording-handler.js';
import { routes, useThreeRoutes } from './three-routes.js';

useThreeRoutes();

function send(
  dispatcher: Dispatcher,
  origin: string,
  path: string,
  script: (event: HandlerEvent, handler: RecordingHandler) => void,
): RecordingHandler {
  const handler = new RecordingHandler(script);
  dispatcher.dispatch({ origin, path, method: 'GET' }, handler);
  return handler;
}

describe('handlers that pause', () => {
  it('pause() in onRequestStart holds every body chunk until resume(), then all arrive in order', async () => {
    for (const [name, dispatcher, origin] of routes()) {
      const handler = send(dispatcher, origin, '/stream?n=3&ms=5', (event, h) => {
        if (event === 'start') h.controller?.pause();
      });
      // The whole body has been sent by the upstream by now; none of it may reach a paused handler.
      await sleep(400);
      expect(handler.count('data'), name).toBe(0);
      expect(handler.count('end'), name).toBe(0);
      handler.controller?.resume();
      await handler.done;
      expect(handler.body, name).toBe('chunk-0\nchunk-1\nchunk-2\n');
      expect(handler.events.at(-1), name).toBe('end');
    }
  });
});

/** The events up to and including the first `error`, with error codes left out (each stack names its own). */
function shape(events: HandlerEvent[]): string[] {
  return events.map((e) => (e.startsWith('error ') ? 'error' : e));
}

describe('handlers that pause mid-response', () => {
  it('pause() in onResponseStart: no data until resume(), then the whole body in order', async () => {
    for (const [name, dispatcher, origin] of routes()) {
      const handler = send(dispatcher, origin, '/stream?n=3&ms=5', (event, h) => {
        if (event.startsWith('response ')) h.controller?.pause();
      });
      await sleep(400);
      expect(handler.events, name).toEqual(['start', 'response 200']);
      handler.controller?.resume();
      await handler.done;
      expect(handler.events, name).toEqual([
        'start',
        'response 200',
        'data chunk-0\n',
        'data chunk-1\n',
        'data chunk-2\n',
        'end',
      ]);
    }
  });

  it('pause() in onResponseData: the next chunk waits for resume()', async () => {
    for (const [name, dispatcher, origin] of routes()) {
      const handler = send(dispatcher, origin, '/stream?n=3&ms=5', (event, h) => {
        if (event === 'data chunk-0\n') h.controller?.pause();
      });
      await sleep(400);
      expect(handler.count('data'), name).toBe(1);
      expect(handler.count('end'), name).toBe(0);
      handler.controller?.resume();
      await handler.done;
      expect(handler.body, name).toBe('chunk-0\nchunk-1\nchunk-2\n');
    }
  });
});

describe('handlers that abort', () => {
  it('abort() in each phase ends the request with one error and nothing after it, as in undici', async () => {
    const scripts: [string, string, (event: HandlerEvent, h: RecordingHandler) => void][] = [
      [
        'in onRequestStart',
        '/stream?n=3&ms=5',
        (e, h) => e === 'start' && h.controller?.abort(new Error('stop')),
      ],
      [
        'in onResponseStart',
        '/stream?n=3&ms=5',
        (e, h) => e === 'response 200' && h.controller?.abort(new Error('stop')),
      ],
      [
        'after the first chunk',
        '/stream?n=3&ms=50',
        (e, h) => e === 'data chunk-0\n' && h.controller?.abort(new Error('stop')),
      ],
    ];
    for (const [phase, path, script] of scripts) {
      const shapes: string[][] = [];
      for (const [name, dispatcher, origin] of routes()) {
        const handler = send(dispatcher, origin, path, script);
        await handler.done;
        await sleep(150); // nothing may arrive after the error
        expect(handler.count('error'), `${name} ${phase} ${JSON.stringify(handler.events)}`).toBe(1);
        expect(handler.events.at(-1)?.startsWith('error'), `${name} ${phase}`).toBe(true);
        expect(handler.count('end'), `${name} ${phase}`).toBe(0);
        shapes.push(shape(handler.events));
      }
      // The mesh route and the pass-through host see exactly what undici's own Agent gives.
      expect(shapes[1], phase).toEqual(shapes[0]);
      expect(shapes[2], phase).toEqual(shapes[0]);
    }
  });

  it('abort() while waiting for headers fails at once, long before the upstream answers', async () => {
    for (const [name, dispatcher, origin] of routes()) {
      const handler = send(dispatcher, origin, '/slow?ms=5000', () => {});
      await sleep(100);
      const aborted = performance.now();
      handler.controller?.abort(new Error('stop'));
      await handler.done;
      expect(shape(handler.events), name).toEqual(['start', 'error']);
      expect(performance.now() - aborted, name).toBeLessThan(2000);
    }
  });
});
