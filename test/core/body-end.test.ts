import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type BodyEndWatcher, whenBodyEnds } from '../../src/core/body-end.js';
import type { ResponseBody } from '../../src/core/layer.js';

function counter(): BodyEndWatcher & { calls: number } {
  return {
    calls: 0,
    bodyEnded() {
      this.calls++;
    },
  };
}

function closed(stream: Readable): Promise<void> {
  return new Promise((resolve) => stream.once('close', () => setImmediate(resolve)));
}

// whenBodyEnds hands bodies pooled listeners: these pin that a recycled link serves only its
// new body, whatever the old one does, and that each watcher hears of its body's end once.
describe('whenBodyEnds (pooled body-end links)', () => {
  it('tells the watcher once when a stream read to its end closes', async () => {
    const body = Readable.from(['a', 'b']);
    const watcher = counter();
    whenBodyEnds(body as unknown as ResponseBody, watcher);
    expect(watcher.calls).toBe(0);
    body.resume();
    await closed(body);
    expect(watcher.calls).toBe(1);
  });

  it('tells the watcher at once when the body is already over', () => {
    const body = new Readable({ read() {} });
    body.destroy();
    const watcher = counter();
    whenBodyEnds(body as unknown as ResponseBody, watcher);
    expect(watcher.calls).toBe(1);
  });

  it('a link recycled to a new body is not fired again by the old body', async () => {
    const first = new Readable({ read() {} });
    const firstWatcher = counter();
    whenBodyEnds(first as unknown as ResponseBody, firstWatcher);
    first.destroy();
    await closed(first);
    // The next body takes the link the first one released.
    const second = new Readable({ read() {} });
    const secondWatcher = counter();
    whenBodyEnds(second as unknown as ResponseBody, secondWatcher);
    first.emit('close'); // a stray close on the old body
    expect(secondWatcher.calls).toBe(0);
    expect(firstWatcher.calls).toBe(1);
    second.destroy(new Error('cut'));
    second.on('error', () => {});
    await closed(second);
    expect(secondWatcher.calls).toBe(1);
  });

  it('uses once() on a body that is not a stream (the relay body)', () => {
    const listeners: Array<() => void> = [];
    const body: ResponseBody = {
      destroyed: false,
      destroy: () => undefined,
      dump: async () => undefined,
      once: (_event, listener) => listeners.push(listener),
    };
    const watcher = counter();
    whenBodyEnds(body, watcher);
    expect(listeners).toHaveLength(1);
    listeners[0]!();
    expect(watcher.calls).toBe(1);
  });
});
