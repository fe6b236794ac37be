import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addListener,
  callListeners,
  type Listener,
  type ListenerList,
  removeListener,
} from '../../src/core/listener-list.js';

/** An operation on a list of listeners drawn from a pool of four (so the same one is added twice). */
const operation = fc.oneof(
  fc.record({ op: fc.constant('add' as const), which: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant('remove' as const), which: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant('call' as const) }),
);

describe('listener list', () => {
  it('adds, removes and calls listeners (functions and listener objects) exactly as an EventEmitter does', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const calls: { list: number[]; emitter: number[] } = { list: [], emitter: [] };
        // Two functions and two listener objects (called through handleEvent, as an AbortSignal does).
        const listFns: Listener[] = [0, 1, 2, 3].map((i) =>
          i < 2 ? () => calls.list.push(i) : { handleEvent: () => calls.list.push(i) },
        );
        const emitterFns = [0, 1, 2, 3].map((i) => () => calls.emitter.push(i));
        let list: ListenerList;
        const emitter = new EventEmitter();
        for (const step of operations) {
          if (step.op === 'add') {
            list = addListener(list, listFns[step.which] as Listener);
            emitter.on('x', emitterFns[step.which] as () => void);
          } else if (step.op === 'remove') {
            list = removeListener(list, listFns[step.which] as Listener);
            emitter.removeListener('x', emitterFns[step.which] as () => void);
          } else {
            callListeners(list);
            emitter.emit('x');
          }
        }
        expect(calls.list).toEqual(calls.emitter);
        expect(list === undefined).toBe(emitter.listenerCount('x') === 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('calls every listener present when the call began, even one that removes another', () => {
    const called: string[] = [];
    let list: ListenerList;
    const second = () => called.push('second');
    const first = () => {
      called.push('first');
      list = removeListener(list, second);
    };
    list = addListener(addListener(undefined, first), second);
    callListeners(list);
    expect(called).toEqual(['first', 'second']);
    expect(list).toBe(first);
  });
});
