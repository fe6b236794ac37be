import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineWheel, WheelEntry } from '../../src/resilience/deadline-wheel.js';
import { ManualClock } from '../support/manual-clock.js';

class Item extends WheelEntry {
  fired = 0;
  firedAt = Number.NaN;
  constructor(private readonly onExpire: (item: Item) => void = () => {}) {
    super();
  }
  expire(): void {
    this.fired++;
    this.onExpire(this);
  }
}

describe('DeadlineWheel', () => {
  /** A wheel on a hand-moved clock, starting at an odd time so slots do not line up with 0. */
  function manualWheel() {
    const clock = new ManualClock(1_001);
    return { clock, wheel: new DeadlineWheel(clock) };
  }

  it('expires items in deadline order, no earlier than their deadline and at most one slot late', async () => {
    const { clock, wheel } = manualWheel();
    const fired: Array<{ name: string; at: number; deadline: number }> = [];
    const start = clock.now();
    for (const [name, offset] of [
      ['late', 60],
      ['early', 20],
      ['middle', 40],
    ] as const) {
      const deadline = start + offset;
      wheel.add(new Item(() => fired.push({ name, at: clock.now(), deadline })), deadline);
    }
    await clock.advance(19);
    expect(fired).toEqual([]);
    await clock.advance(60);
    expect(fired.map((f) => f.name)).toEqual(['early', 'middle', 'late']);
    for (const f of fired) {
      expect(f.at).toBeGreaterThanOrEqual(f.deadline);
      expect(f.at).toBeLessThanOrEqual(f.deadline + 4);
    }
    expect(wheel.pending).toBe(0);
  });

  it('never fires a removed item, and stops ticking once nothing is pending', async () => {
    const { clock, wheel } = manualWheel();
    const item = new Item();
    wheel.add(item, clock.now() + 10);
    expect(wheel.ticking).toBe(true);
    wheel.remove(item);
    wheel.remove(item);
    expect(wheel.pending).toBe(0);
    await clock.advance(40);
    expect(item.fired).toBe(0);
    expect(wheel.ticking).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('fires an item whose deadline has already passed on the next tick', async () => {
    const { clock, wheel } = manualWheel();
    const item = new Item();
    wheel.add(item, clock.now() - 1000);
    expect(item.fired).toBe(0);
    await clock.advance(4);
    expect(item.fired).toBe(1);
  });

  it('runs on the real clock by default: an item expires without anyone moving time', async () => {
    const wheel = new DeadlineWheel();
    const deadline = performance.now() + 5;
    const expired = new Promise<number>((resolve) =>
      wheel.add(new Item(() => resolve(performance.now())), deadline),
    );
    expect(await expired).toBeGreaterThanOrEqual(deadline);
  });

  it('does not tell an entry that an earlier expiry on the same tick released', () => {
    let now = 0;
    const wheel = new DeadlineWheel(() => now);
    const second = new Item();
    const first = new Item(() => wheel.remove(second));
    wheel.add(second, 10);
    wheel.add(first, 10); // the list is LIFO: first is told first
    now = 12;
    wheel.tick();
    expect([first.fired, second.fired]).toEqual([1, 0]);
    expect(wheel.pending).toBe(0);
  });

  // A manual clock, ticked by hand: deadlines up to four turns of the ring away, removals, and
  // clock jumps longer than a turn.
  it('expires every entry once, never before its deadline and by the first tick past its slot (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), delay: fc.integer({ min: -50, max: 66_000 }) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        let now = 1_000;
        const wheel = new DeadlineWheel(() => now);
        const live: Array<{ item: Item; deadline: number }> = [];
        const removed: Item[] = [];
        const check = () => {
          for (const { item, deadline } of live) {
            if (item.fired === 0) continue;
            expect(item.fired).toBe(1);
            expect(item.firedAt).toBeGreaterThanOrEqual(deadline);
          }
          for (const item of removed) expect(item.fired).toBe(0);
          const waiting = live.filter(({ item }) => item.fired === 0);
          for (const { deadline } of waiting) expect(Math.ceil(deadline / 4) * 4).toBeGreaterThan(now - 4);
          expect(wheel.pending).toBe(waiting.length);
        };
        for (const step of ops) {
          if (step.kind === 'add') {
            const deadline = now + step.delay;
            const item = new Item((self) => {
              self.firedAt = now;
            });
            wheel.add(item, deadline);
            // A deadline already past is due on the next tick, counted from now.
            live.push({ item, deadline: Math.max(deadline, now - (now % 4)) });
          } else if (step.kind === 'remove') {
            const waiting = live.filter(({ item }) => item.fired === 0);
            const target = waiting[step.pick % Math.max(1, waiting.length)];
            if (target === undefined) continue;
            wheel.remove(target.item);
            live.splice(live.indexOf(target), 1);
            removed.push(target.item);
          } else {
            now += step.ms;
            wheel.tick();
            check();
          }
        }
        now += 70_000;
        wheel.tick();
        check();
        expect(live.every(({ item }) => item.fired === 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
