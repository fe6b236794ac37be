import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTapFilter, tapMatches } from '../../src/admin/tap-filter.js';
import type { RequestCompletion } from '../../src/telemetry/completion-feed.js';

const call = (over: Partial<RequestCompletion>): RequestCompletion => ({
  at: 0,
  service: 'users',
  route: '',
  method: 'GET',
  path: '/users/42',
  endpoint: '127.0.0.1:1',
  status: 200,
  error: undefined,
  headersMs: 1,
  latencyMs: 5,
  attempts: 1,
  deadlineLeftMs: null,
  ...over,
});

describe('tap filters', () => {
  it('parses every documented field and refuses bad ones with a sentence', () => {
    expect(
      parseTapFilter(new URLSearchParams('service=users&path=/users&status=5xx&min_latency=20')),
    ).toEqual({
      service: 'users',
      path: '/users',
      status: '5xx',
      minLatencyMs: 20,
    });
    expect(parseTapFilter(new URLSearchParams(''))).toEqual({});
    expect(parseTapFilter(new URLSearchParams('status=6xx'))).toMatch(/status must be/);
    expect(parseTapFilter(new URLSearchParams('status=50'))).toMatch(/status must be/);
    expect(parseTapFilter(new URLSearchParams('path=users'))).toMatch(/start with/);
    expect(parseTapFilter(new URLSearchParams('min_latency=-1'))).toMatch(/min_latency/);
    expect(parseTapFilter(new URLSearchParams('min_latency=abc'))).toMatch(/min_latency/);
  });

  it('never throws on any query, and answers a filter or a message', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('service', 'path', 'status', 'min_latency', 'x'), fc.string()),
        (query) => {
          const parsed = parseTapFilter(new URLSearchParams(query));
          expect(typeof parsed === 'string' || typeof parsed === 'object').toBe(true);
        },
      ),
    );
  });

  it('matches status codes, classes and errors, path prefixes and latency floors', () => {
    expect(tapMatches({ status: '5xx' }, call({ status: 503 }))).toBe(true);
    expect(tapMatches({ status: '5xx' }, call({ status: 404 }))).toBe(false);
    expect(tapMatches({ status: '404' }, call({ status: 404 }))).toBe(true);
    expect(tapMatches({ status: 'error' }, call({ status: undefined, error: 'TRELLIS_ABORTED' }))).toBe(true);
    expect(tapMatches({ status: '5xx' }, call({ status: undefined, error: 'TRELLIS_ABORTED' }))).toBe(false);
    expect(tapMatches({ path: '/users' }, call({}))).toBe(true);
    expect(tapMatches({ path: '/orders' }, call({}))).toBe(false);
    expect(tapMatches({ minLatencyMs: 5 }, call({ latencyMs: 5 }))).toBe(true);
    expect(tapMatches({ minLatencyMs: 6 }, call({ latencyMs: 5 }))).toBe(false);
    expect(tapMatches({ service: 'orders' }, call({}))).toBe(false);
  });

  it('a status class filter passes exactly the codes of that class', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.integer({ min: 1, max: 5 }), (status, cls) => {
        expect(tapMatches({ status: `${cls}xx` }, call({ status }))).toBe(Math.floor(status / 100) === cls);
      }),
    );
  });
});
