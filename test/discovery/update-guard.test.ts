import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, isTrellisError } from '../../src/core/errors.js';
import type { Endpoint, EndpointInput } from '../../src/discovery/endpoint.js';
import { UpdateGuard, validateUpdatePolicy } from '../../src/discovery/update-guard.js';

function recorder() {
  const applied: string[][] = [];
  const errors: Error[] = [];
  return {
    applied,
    errors,
    sink: {
      update(endpoints: readonly EndpointInput[]) {
        applied.push(endpoints.map((ep) => (typeof ep === 'string' ? ep : `${ep.host}:${ep.port}`)));
      },
      change(changes: Map<string, Endpoint | null>) {
        const next = new Map((applied.at(-1) ?? []).map((id) => [id, id]));
        for (const [id, record] of changes) {
          if (record === null) next.delete(id);
          else next.set(id, id);
        }
        applied.push([...next.keys()]);
      },
      error(err: Error) {
        errors.push(err);
      },
    },
  };
}

describe('the update guard every resolver gets (injected clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('applies the first set at once and a burst of later sets once, after the quiet time', () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 100 });
    guard.update(['10.0.0.1:80']);
    expect(r.applied).toEqual([['10.0.0.1:80']]);
    guard.update(['10.0.0.2:80']);
    vi.advanceTimersByTime(50);
    guard.update(['10.0.0.3:80']);
    vi.advanceTimersByTime(99);
    expect(r.applied).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(r.applied).toEqual([['10.0.0.1:80'], ['10.0.0.3:80']]);
  });

  it('applies within maxDelayMs even while updates keep coming', () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 100, maxDelayMs: 300 });
    guard.update(['10.0.0.1:80']);
    for (let i = 2; i < 10; i++) {
      guard.update([`10.0.0.${i}:80`]);
      vi.advanceTimersByTime(60);
    }
    // Updates at 0, 60, ..., 240 ms after the first pending one: applied at 300 ms, not later.
    expect(r.applied.length).toBeGreaterThanOrEqual(2);
    expect(r.applied[1]).toEqual(['10.0.0.6:80']);
  });

  it('drops a malformed update with an error and keeps the good update pending before it', () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 100 });
    guard.update(['10.0.0.1:80']);
    guard.update(['10.0.0.2:80']);
    guard.update(['10.0.0.3:80', 'not an address']);
    expect(r.errors).toHaveLength(1);
    expect(isTrellisError(r.errors[0], ErrorCode.InvalidDiscoveryData)).toBe(true);
    vi.advanceTimersByTime(100);
    expect(r.applied.at(-1)).toEqual(['10.0.0.2:80']);
  });

  it('holds back an update that would empty a healthy set for the grace period, visibly', () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 10, emptySetGraceMs: 5000 });
    guard.update(['10.0.0.1:80']);
    guard.update([]);
    vi.advanceTimersByTime(10);
    expect(guard.holdingEmptySet).toBe(true);
    expect(r.applied).toEqual([['10.0.0.1:80']]);
    expect(isTrellisError(r.errors[0], ErrorCode.NoEndpoints)).toBe(true);
    expect(r.errors[0]!.message).toMatch(/last 1 stay in use/);
    guard.update([]); // a repeated empty update neither restarts the hold nor reports again
    vi.advanceTimersByTime(4990);
    expect(r.applied).toHaveLength(1);
    expect(r.errors).toHaveLength(1);
    vi.advanceTimersByTime(10);
    expect(r.applied.at(-1)).toEqual([]);
    expect(guard.holdingEmptySet).toBe(false);
  });

  it('cancels the hold when endpoints come back within the grace period', () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 10, emptySetGraceMs: 5000 });
    guard.update(['10.0.0.1:80']);
    guard.update([]);
    vi.advanceTimersByTime(1000);
    guard.update(['10.0.0.2:80']);
    vi.advanceTimersByTime(10_000);
    expect(r.applied).toEqual([['10.0.0.1:80'], ['10.0.0.2:80']]);
  });

  it('applies an empty set at once when there was nothing to protect or the grace is 0', () => {
    const first = recorder();
    new UpdateGuard(first.sink, 'api').update([]);
    expect(first.applied).toEqual([[]]);
    const noGrace = recorder();
    const guard = new UpdateGuard(noGrace.sink, 'api', { debounceMs: 0, emptySetGraceMs: 0 });
    guard.update(['10.0.0.1:80']);
    guard.update([]);
    vi.advanceTimersByTime(0);
    expect(noGrace.applied.at(-1)).toEqual([]);
  });

  it('leaves no timer behind once closed', () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 10, emptySetGraceMs: 5000 });
    guard.update(['10.0.0.1:80']);
    guard.update([]);
    vi.advanceTimersByTime(10);
    guard.update(['10.0.0.2:80']);
    guard.close();
    expect(vi.getTimerCount()).toBe(0);
    guard.update(['10.0.0.3:80']);
    guard.error(new Error('late'));
    expect(r.applied).toHaveLength(1);
    expect(r.errors).toHaveLength(1);
  });

  it('names every invalid timing', () => {
    expect(validateUpdatePolicy({ debounceMs: -1, emptySetGraceMs: Number.NaN })).toHaveLength(2);
    expect(validateUpdatePolicy({ debounceMs: 0 })).toEqual([]);
  });
});

describe('the update guard with a long update (real timers)', () => {
  const long = (n: number, third: number) =>
    Array.from({ length: n }, (_, i) => `10.${third}.${i >> 8}.${i & 255}:80`);

  it('validates a long update in slices, between turns of the event loop, and then passes it on whole', async () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 0 });
    guard.update(long(20_000, 1));
    expect(r.applied).toHaveLength(0);
    let turns = 0;
    while (r.applied.length === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
    expect(turns).toBeGreaterThan(1);
    expect(r.applied[0]).toEqual(long(20_000, 1));
    guard.close();
  });

  it('reports a long update with a malformed entry at its end and drops it whole', async () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 0 });
    guard.update(['10.0.0.1:80']);
    guard.update([...long(20_000, 1), 'not an address']);
    while (r.errors.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(isTrellisError(r.errors[0], ErrorCode.InvalidDiscoveryData)).toBe(true);
    expect(r.errors[0]!.message).toMatch(/not an address/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.applied).toEqual([['10.0.0.1:80']]);
    guard.close();
  });

  it('drops a long update still being validated when a newer one arrives, and stops on close', async () => {
    const r = recorder();
    const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 0 });
    guard.update(['10.0.0.1:80']);
    guard.update(long(20_000, 1));
    guard.update(['10.0.0.2:80']);
    guard.update(long(20_000, 2));
    guard.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.applied).toEqual([['10.0.0.1:80']]);
    const second = recorder();
    const next = new UpdateGuard(second.sink, 'api', { debounceMs: 0 });
    next.update(long(20_000, 1));
    next.update(['10.0.0.2:80']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.applied).toEqual([['10.0.0.2:80']]);
    next.close();
  });

  describe('keyed changes', () => {
    it('passes on only the ids that changed, coalescing a burst on one key into its latest state', async () => {
      const changes: Array<Map<string, unknown>> = [];
      const r = recorder();
      const guard = new UpdateGuard(
        {
          ...r.sink,
          change(c) {
            changes.push(c);
            r.sink.change(c);
          },
        },
        'api',
        { debounceMs: 0 },
      );
      guard.beginSnapshot();
      for (let i = 0; i < 1000; i++) guard.set(`k${i}`, `10.0.${i >> 8}.${i & 255}:80`);
      guard.endSnapshot();
      expect(r.applied[0]).toHaveLength(1000);
      for (let i = 0; i < 50; i++) {
        guard.set('flapper', '10.9.9.9:80');
        guard.delete('flapper');
      }
      guard.set('k1', { host: '10.0.0.1', port: 80, weight: 5 });
      await new Promise((resolve) => setTimeout(resolve, 10));
      // One batch, holding the flapper's net state (gone) and k1's new weight: not 1000 entries.
      expect(changes).toHaveLength(1);
      expect([...changes[0]!.keys()].sort()).toEqual(['10.0.0.1:80', '10.9.9.9:80']);
      expect(changes[0]!.get('10.9.9.9:80')).toBeNull();
      guard.close();
    });

    it('refuses a malformed entry alone, naming its key, and keeps what the key held', async () => {
      const r = recorder();
      const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 0 });
      guard.set('/a', '10.0.0.1:80');
      guard.set('/a', { host: '10.0.0.1', port: 80, metadata: { big: 'x'.repeat(5000) } });
      guard.set('/b', { host: 'not a host!', port: 80 });
      guard.set('/c', '10.0.0.3:80');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(r.errors.map((e) => (e as { details?: { key?: string } }).details?.key)).toEqual(['/a', '/b']);
      expect(r.errors[0]!.message).toMatch(/Discovery entry '\/a' was refused: .*values 1024/);
      expect(r.applied.at(-1)!.sort()).toEqual(['10.0.0.1:80', '10.0.0.3:80']);
      guard.close();
    });

    it('bounds the number of keys and of endpoints in a whole set, keeping what is in force', () => {
      const r = recorder();
      const guard = new UpdateGuard(r.sink, 'api', { debounceMs: 0, maxEndpoints: 2 });
      guard.update(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
      expect(r.errors[0]!.message).toMatch(/listed 3 endpoints, more than updates.maxEndpoints \(2\)/);
      expect(r.applied).toEqual([]);
      guard.set('/a', '10.0.0.1:80');
      guard.set('/b', '10.0.0.2:80');
      guard.set('/c', '10.0.0.3:80');
      expect(r.errors[1]!.message).toMatch(/already has 2 keys/);
      guard.set('/a', '10.0.0.4:80'); // replacing a key is always allowed
      expect(r.errors).toHaveLength(2);
      expect(validateUpdatePolicy({ maxEndpoints: 0 })).toHaveLength(1);
      guard.close();
    });
  });
});
