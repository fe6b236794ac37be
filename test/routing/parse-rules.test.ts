import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTrellisError } from '../../src/core/errors.js';
import { parseRules } from '../../src/routing/parse-rules.js';

function problemsOf(input: unknown): string[] {
  try {
    parseRules(input);
  } catch (err) {
    if (isTrellisError(err, 'TRELLIS_INVALID_CONFIG')) return err.details.problems as string[];
    throw err;
  }
  throw new Error('expected the rules to be rejected');
}

describe('parsing routing rules', () => {
  it('accepts the trellis format as data and returns a frozen table', () => {
    const table = parseRules({
      services: {
        users: {
          routes: [
            { name: 'canary', match: { headers: { 'x-canary': '1' } }, backend: 'users-v2' },
            {
              split: [
                { backend: 'users', weight: 90 },
                { backend: 'users-v2', weight: 10 },
              ],
              mirror: { backend: 'users-shadow', percent: 5 },
              fault: { delay: { percent: 1, ms: 100 }, abort: { percent: 0.5 } },
            },
          ],
        },
      },
    });
    expect(table.services.users!.routes).toHaveLength(2);
    expect(Object.isFrozen(table.services.users!.routes[1]!.split)).toBe(true);
  });

  it('accepts the same rules as YAML text and as JSON text', () => {
    const yaml = `
services:
  users:
    routes:
      - match: { path: /v2/ }
        backend: users-v2
`;
    const fromYaml = parseRules(yaml);
    expect(parseRules(JSON.stringify(fromYaml))).toEqual(fromYaml);
    expect(fromYaml.services.users!.routes[0]!.match!.path).toBe('/v2/');
  });

  it('reads empty text as no rules', () => {
    expect(parseRules('')).toEqual({ services: {} });
    expect(parseRules('# nothing yet\n')).toEqual({ services: {} });
  });

  it('accepts SMI TrafficSplit manifests, including v1alpha1 quantity weights and several documents', () => {
    const table = parseRules(`
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata: { name: users-rollout }
spec:
  service: users
  backends:
    - service: users-v1
      weight: 900m
    - service: users-v2
      weight: 100m
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: { name: orders-rollout }
spec:
  service: orders
  backends:
    - { service: orders, weight: 99 }
    - { service: orders-v2, weight: 1 }
`);
    expect(table.services.users!.routes[0]!.split).toEqual([
      { backend: 'users-v1', weight: 0.9 },
      { backend: 'users-v2', weight: 0.1 },
    ]);
    expect(table.services.orders!.routes[0]!.split![1]).toEqual({ backend: 'orders-v2', weight: 1 });
  });

  it('accepts a Kubernetes List of TrafficSplits', () => {
    const split = {
      apiVersion: 'split.smi-spec.io/v1alpha2',
      kind: 'TrafficSplit',
      metadata: { name: 'a' },
      spec: { service: 'web', backends: [{ service: 'web-v2', weight: 1 }] },
    };
    expect(parseRules({ kind: 'List', items: [split] }).services.web!.routes).toHaveLength(1);
  });

  it('rejects a TrafficSplit with matches, saying how to write the match instead', () => {
    const problems = problemsOf({
      apiVersion: 'split.smi-spec.io/v1alpha4',
      kind: 'TrafficSplit',
      metadata: { name: 'ab' },
      spec: {
        service: 'web',
        matches: [{ kind: 'HTTPRouteGroup', name: 'ab-test' }],
        backends: [{ service: 'web-v2', weight: 1 }],
      },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/HTTPRouteGroup.*trellis route/);
  });

  it('lists every problem of an invalid update at once, with where each one is', () => {
    const problems = problemsOf({
      services: {
        users: {
          routes: [
            { split: [{ backend: 'users', wieght: 1 }] },
            { backend: 'Users V2', match: { headers: { 'x-canary': { regex: '(' } }, method: 'get' } },
            { backend: 'users', split: [] },
            { backend: 'users', mirror: { backend: 'shadow', percent: 120 } },
            { backend: 'users', fault: { delay: { percent: 5, ms: -1 } } },
          ],
        },
      },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/routes\[0\]\.split\[0\]: unknown field 'wieght'/),
        expect.stringMatching(/routes\[0\]\.split\[0\]\.weight: must be a finite number/),
        expect.stringMatching(/routes\[1\]\.backend: "Users V2" is not a service name/),
        expect.stringMatching(/routes\[1\]\.match\.headers\.x-canary: invalid regex/),
        expect.stringMatching(/routes\[1\]\.match\.method/),
        expect.stringMatching(/routes\[2\]: give either 'backend' or 'split'/),
        expect.stringMatching(/routes\[3\]\.mirror: percent must be a number from 0 to 100/),
        expect.stringMatching(/routes\[4\]\.fault\.delay\.ms must be an integer/),
      ]),
    );
  });

  it('rejects a split whose weights add up to zero and a backend listed twice', () => {
    expect(problemsOf({ services: { a: { routes: [{ split: [{ backend: 'b', weight: 0 }] }] } } })).toEqual([
      expect.stringMatching(/weights add up to 0/),
    ]);
    expect(
      problemsOf({
        services: { a: { routes: [{ backend: 'Bad Name' }, { split: [{ backend: 'b', weight: 0 }] }] } },
      }),
    ).toEqual([expect.stringMatching(/is not a service name/), expect.stringMatching(/weights add up to 0/)]);
    const twice = {
      split: [
        { backend: 'b', weight: 1 },
        { backend: 'b', weight: 2 },
      ],
    };
    expect(problemsOf({ services: { a: { routes: [twice] } } })).toEqual([
      expect.stringMatching(/listed twice/),
    ]);
  });

  it('rejects YAML syntax errors and documents of an unknown shape with a message saying what is expected', () => {
    expect(problemsOf('services: [unclosed')[0]).toMatch(/^syntax:/);
    expect(problemsOf('*undefined-alias')[0]).toMatch(/^syntax:/);
    expect(problemsOf({ users: { routes: [] } })[0]).toMatch(/expected \{ services:/);
  });

  it('answers any input, data or text, with a table or a TRELLIS_INVALID_CONFIG error, never another exception', () => {
    const outcome = (input: unknown) => {
      try {
        parseRules(input);
        return 'table';
      } catch (err) {
        return isTrellisError(err, 'TRELLIS_INVALID_CONFIG') ? 'rejected' : err;
      }
    };
    const routeLike = fc.record(
      {
        match: fc.anything(),
        backend: fc.oneof(fc.string(), fc.constant('users')),
        split: fc.array(fc.record({ backend: fc.string(), weight: fc.oneof(fc.double(), fc.integer()) })),
        mirror: fc.anything(),
        fault: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.string(),
          // YAML-ish text: anchors, aliases, tags, flow and block collections, documents
          fc.string({
            unit: fc.constantFrom(
              '*a',
              '&a ',
              ': ',
              '- ',
              '[',
              ']',
              '{',
              '}',
              '\n',
              ' ',
              'x',
              '!!map ',
              '|',
              '"',
              '#',
              '---\n',
              '<<: *a\n',
              'services',
              'routes',
            ),
            maxLength: 40,
          }),
          fc.record({ services: fc.dictionary(fc.string(), fc.record({ routes: fc.array(routeLike) })) }),
          fc.array(
            fc.record({
              kind: fc.constant('TrafficSplit'),
              apiVersion: fc.oneof(fc.constant('split.smi-spec.io/v1alpha4'), fc.anything()),
              metadata: fc.anything(),
              spec: fc.oneof(
                fc.anything(),
                fc.record({
                  service: fc.anything(),
                  backends: fc.array(fc.record({ service: fc.anything(), weight: fc.anything() })),
                }),
              ),
            }),
          ),
        ),
        (input) => {
          expect(['table', 'rejected']).toContain(outcome(input));
        },
      ),
      { numRuns: 300 },
    );
  });
});
