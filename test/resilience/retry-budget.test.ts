import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/resilience/retry-budget.js';

describe('RetryBudget', () => {
  it('allows a fraction of the traffic plus the floor, and no more', () => {
    let now = 0;
    const budget = new RetryBudget({ percent: 0.2, minPerSecond: 1, ttlMs: 10_000, now: () => now });
    for (let i = 0; i < 100; i++) budget.deposit();
    let granted = 0;
    while (budget.tryWithdraw()) granted++;
    // floor 1/s over 10 s = 10, plus 20% of 100
    expect(granted).toBe(30);
    now += 1;
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('forgets deposits and withdrawals once they are older than the ttl', () => {
    let now = 0;
    const budget = new RetryBudget({ percent: 0.5, minPerSecond: 0, ttlMs: 1000, now: () => now });
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(budget.balance()).toBe(5);
    while (budget.tryWithdraw());
    now = 2000;
    expect(budget.balance()).toBe(0);
    budget.deposit();
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('never grants more withdrawals in the last ttl than the floor plus the fraction of deposits made in it', () => {
    const event = fc.record({
      advance: fc.integer({ min: 0, max: 400 }),
      deposits: fc.integer({ min: 0, max: 20 }),
      withdrawals: fc.integer({ min: 0, max: 20 }),
    });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 5 }),
        (events, percent, minPerSecond) => {
          const ttlMs = 1000;
          let now = 0;
          const budget = new RetryBudget({ percent, minPerSecond, ttlMs, now: () => now });
          const log: Array<{ t: number; kind: 'd' | 'w' }> = [];
          for (const e of events) {
            now += e.advance;
            for (let i = 0; i < e.deposits; i++) {
              budget.deposit();
              log.push({ t: now, kind: 'd' });
            }
            for (let i = 0; i < e.withdrawals; i++) if (budget.tryWithdraw()) log.push({ t: now, kind: 'w' });
          }
          // At every granted withdrawal, count what happened so far in the ten slots ending at its slot.
          const slotMs = ttlMs / 10;
          log.forEach((w, i) => {
            if (w.kind !== 'w') return;
            const last = Math.floor(w.t / slotMs);
            const inside = log.slice(0, i + 1).filter((e) => Math.floor(e.t / slotMs) > last - 10);
            const d = inside.filter((e) => e.kind === 'd').length;
            const withdrawn = inside.length - d;
            expect(withdrawn).toBeLessThanOrEqual(minPerSecond * (ttlMs / 1000) + percent * d + 1e-9);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports left and capacity consistently: left is never below 0, a withdrawal succeeds only with one left', () => {
    const step = fc.record({
      advance: fc.integer({ min: 0, max: 600 }),
      deposits: fc.integer({ min: 0, max: 10 }),
      withdrawals: fc.integer({ min: 0, max: 10 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 100 }), (steps) => {
        let now = 0;
        const budget = new RetryBudget({ percent: 0.3, minPerSecond: 2, ttlMs: 1000, now: () => now });
        for (const { advance, deposits, withdrawals } of steps) {
          now += advance;
          for (let i = 0; i < deposits; i++) budget.deposit();
          for (let i = 0; i < withdrawals; i++) {
            const left = budget.left();
            expect(left).toBeGreaterThanOrEqual(0);
            expect(left).toBeLessThanOrEqual(budget.capacity());
            expect(budget.tryWithdraw()).toBe(left >= 1);
          }
          expect(budget.left()).toBe(Math.max(0, budget.balance()));
        }
      }),
    );
  });
});
