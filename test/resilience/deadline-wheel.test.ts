import { describe, expect, it } from 'vitest';
import { DeadlineWheel } from '../../src/resilience/deadline-wheel.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('DeadlineWheel', () => {
  it('expires items in deadline order, no earlier than their deadline', async () => {
    const wheel = new DeadlineWheel();
    const fired: Array<{ name: string; at: number; deadline: number }> = [];
    const start = performance.now();
    for (const [name, offset] of [
      ['late', 60],
      ['early', 20],
      ['middle', 40],
    ] as const) {
      const deadline = start + offset;
      wheel.add({ expire: () => fired.push({ name, at: performance.now(), deadline }) }, deadline);
    }
    await sleep(150);
    expect(fired.map((f) => f.name)).toEqual(['early', 'middle', 'late']);
    for (const f of fired) expect(f.at).toBeGreaterThanOrEqual(f.deadline - 4);
    expect(wheel.pending).toBe(0);
  });

  it('never fires a removed item, and stops ticking once nothing is pending', async () => {
    const wheel = new DeadlineWheel();
    let fired = 0;
    const item = { expire: () => fired++ };
    const slot = wheel.add(item, performance.now() + 10);
    wheel.remove(item, slot);
    wheel.remove(item, slot);
    expect(wheel.pending).toBe(0);
    await sleep(40);
    expect(fired).toBe(0);
    expect(wheel.ticking).toBe(false);
  });

  it('fires an item whose deadline has already passed on the next tick', async () => {
    const wheel = new DeadlineWheel();
    let fired = 0;
    wheel.add({ expire: () => fired++ }, performance.now() - 1000);
    await sleep(20);
    expect(fired).toBe(1);
  });
});
