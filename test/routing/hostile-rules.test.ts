import { describe, expect, it } from 'vitest';
import { RequestContext } from '../../src/core/context.js';
import { isTrellisError } from '../../src/core/errors.js';
import type { MeshResponse, Service } from '../../src/core/layer.js';
import { CompiledRoutes } from '../../src/routing/compile.js';
import { parseRules } from '../../src/routing/parse-rules.js';
import { RULE_LIMITS } from '../../src/routing/rule-limits.js';
import { SplitRandom } from '../../src/routing/split-random.js';

function problemsOf(input: unknown): string[] {
  try {
    parseRules(input);
  } catch (err) {
    if (isTrellisError(err, 'TRELLIS_INVALID_CONFIG')) return err.details.problems as string[];
    throw err;
  }
  throw new Error('expected the rules to be rejected');
}

/** A backend that answers with its name (no network: the test is about which route matches). */
function named(name: string): Service {
  return () => Promise.resolve({ statusCode: 200, name } as unknown as MeshResponse);
}

const table = (routes: unknown[]) => ({ services: { api: { routes } } });

describe('routing rules from a hostile control plane', () => {
  it('matches the catastrophic-backtracking pattern ^(a+)+$ in linear time, on long crafted headers', async () => {
    const rules = parseRules(
      table([{ match: { headers: { 'x-user': { regex: '^(a+)+$' } } }, backend: 'evil-match' }]),
    );
    const routes = new CompiledRoutes(rules.services.api!, named, named('fallback'), new SplitRandom(1));
    const ask = async (value: string) => {
      const ctx = new RequestContext({ service: 'api', path: '/', headers: { 'x-user': value } });
      return ((await routes.handle(ctx)) as unknown as { name: string }).name;
    };
    // With a backtracking engine the 28-byte header alone takes seconds and 40 bytes take hours:
    // this test could not finish.
    expect(await ask(`${'a'.repeat(28)}!`)).toBe('fallback');
    expect(await ask(`${'a'.repeat(40)}!`)).toBe('fallback');
    expect(await ask(`${'a'.repeat(16_000)}!`)).toBe('fallback');
    expect(await ask('a'.repeat(16_000))).toBe('evil-match');
  });

  it('refuses patterns that need backtracking (backreferences, lookaround) and overlong ones', () => {
    const regex = (source: string) =>
      table([{ match: { headers: { 'x-a': { regex: source } } }, backend: 'b' }]);
    expect(problemsOf(regex('(a)\\1'))[0]).toMatch(/RE2 syntax.*no backreferences or lookaround/);
    expect(problemsOf(regex('(?=a)b'))[0]).toMatch(/unsupported/);
    expect(problemsOf(regex('a'.repeat(RULE_LIMITS.regex + 1)))[0]).toMatch(/more than the 1024 allowed/);
  });

  it('refuses split weights that are not finite or whose sum overflows, and normalises the rest', async () => {
    const split = (weights: unknown[]) =>
      table([{ split: weights.map((weight, i) => ({ backend: `b${i}`, weight })) }]);
    expect(problemsOf(split([1e308, 1e308]))[0]).toMatch(/add up to more than a number can hold/);
    expect(problemsOf(split([Number.POSITIVE_INFINITY, 1]))[0]).toMatch(/finite number >= 0/);
    expect(problemsOf(split([Number.NaN, 1]))[0]).toMatch(/finite number >= 0/);
    // Large but finite weights are shares like any others: 3:1 whatever the scale.
    const rules = parseRules(split([3e300, 1e300]));
    const routes = new CompiledRoutes(rules.services.api!, named, named('fallback'), new SplitRandom(7));
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const ctx = new RequestContext({ service: 'api', path: '/' });
      const name = ((await routes.handle(ctx)) as unknown as { name: string }).name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(counts.get('b0')! / 4000).toBeGreaterThan(0.7);
    expect(counts.get('b0')! / 4000).toBeLessThan(0.8);
  });

  it('bounds every list and string in the rules, naming the one too large', () => {
    const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));
    expect(problemsOf(table(many(RULE_LIMITS.routes + 1, () => ({ backend: 'b' }))))[0]).toMatch(
      /1001 routes, more than the 1000 allowed/,
    );
    const headers = Object.fromEntries(many(RULE_LIMITS.headers + 1, (i) => [`x-h${i}`, 'v'] as const));
    expect(problemsOf(table([{ match: { headers }, backend: 'b' }]))[0]).toMatch(/33 headers/);
    expect(problemsOf(table([{ split: many(65, (i) => ({ backend: `b${i}`, weight: 1 })) }]))[0]).toMatch(
      /65 backends/,
    );
    expect(
      problemsOf(table([{ match: { path: { prefix: `/${'x'.repeat(5000)}` } }, backend: 'b' }]))[0],
    ).toMatch(/more than the 4096 allowed/);
    const services = Object.fromEntries(
      many(RULE_LIMITS.services + 1, (i) => [`s${i}`, { routes: [] }] as const),
    );
    expect(problemsOf({ services })[0]).toMatch(/10001 services/);
    expect(problemsOf(`# ${'x'.repeat(RULE_LIMITS.textLength)}`)[0]).toMatch(/characters long/);
  });
});
