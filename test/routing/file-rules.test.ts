import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrellisError } from '../../src/core/errors.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { fileRules } from '../../src/routing/file-rules.js';
import type { RouteTable } from '../../src/routing/rules.js';
import type { RulesSource } from '../../src/routing/rules-source.js';
import { startUpstreams, type Upstream } from '../support/upstreams.js';

let v1: Upstream;
let v2: Upstream;
let dir: string;
let file: string;
let source: RulesSource;
let mesh: Mesh;

/** Replaces the file the way deploy tools do: write a temporary file, then rename it over. */
function publish(text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function trafficSplit(v1Weight: number, v2Weight: number): string {
  return `apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: { name: users-rollout }
spec:
  service: users
  backends:
    - { service: users, weight: ${v1Weight} }
    - { service: users-v2, weight: ${v2Weight} }
`;
}

/** Resolves with the next event of `name`; rejects after 5 s so a lost update fails instead of hanging. */
function next<E extends 'applied' | 'rejected'>(
  name: E,
): Promise<E extends 'applied' ? RouteTable : TrellisError> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' event within 5 s`)), 5000);
    source.once(name, (value: unknown) => {
      clearTimeout(timer);
      resolve(value as never);
    });
  });
}

async function whoAnswers(): Promise<string> {
  const { headers, body } = await mesh.request({ service: 'users', path: '/' });
  await body.dump();
  return String(headers['x-upstream']);
}

beforeAll(async () => {
  [v1, v2] = (await startUpstreams('v1', 'v2')) as [Upstream, Upstream];
  dir = mkdtempSync(join(tmpdir(), 'trellis-rules-'));
  file = join(dir, 'routes.yaml');
  writeFileSync(file, trafficSplit(100, 0));
  source = fileRules(file);
  mesh = Mesh.builder()
    .rules(source)
    .service('users', (s) => s.discovery(staticEndpoints([v1.address])))
    .service('users-v2', (s) => s.discovery(staticEndpoints([v2.address])))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await Promise.all([v1?.stop(), v2?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('rules from a watched file (real upstream processes)', () => {
  it('applies the rules the file holds when the mesh is built', async () => {
    expect(await whoAnswers()).toBe('v1');
  });

  it('applies a changed file without a restart', async () => {
    const applied = next('applied');
    publish(trafficSplit(0, 100));
    await applied;
    expect(await whoAnswers()).toBe('v2');
  });

  it('rejects an invalid file with the problems listed and keeps the previous rules', async () => {
    // 0% / 100% is in force from the previous test
    const rejected = next('rejected');
    publish(trafficSplit(0, 100).replace('weight: 100', 'weight: lots'));
    expect((await rejected).message).toMatch(/weight must be a number >= 0.*previous rules stay in force/s);
    expect(await whoAnswers()).toBe('v2');
  });

  it('drops no request while the split moves from 1% to 10% to 100% under load', async () => {
    publish(trafficSplit(99, 1));
    await next('applied');
    let running = true;
    let failures = 0;
    const answers = { v1: 0, v2: 0 } as Record<string, number>;
    const worker = async () => {
      while (running) {
        try {
          answers[await whoAnswers()]!++;
        } catch {
          failures++;
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    for (const [a, b] of [
      [90, 10],
      [0, 100],
    ] as const) {
      await new Promise((r) => setTimeout(r, 150));
      const applied = next('applied');
      publish(trafficSplit(a, b));
      await applied;
    }
    const before = { ...answers };
    // Let at least 40 more requests finish (however slow the machine is), bounded by 5 s.
    for (
      let waited = 0;
      answers.v1! + answers.v2! < before.v1! + before.v2! + 40 && waited < 5000;
      waited += 20
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    running = false;
    await Promise.all(workers);
    expect(failures).toBe(0);
    // Once 100% is in force, only v2 answers (the 8 requests already routed may finish on v1).
    expect(answers.v2! - before.v2!).toBeGreaterThanOrEqual(32);
    expect(answers.v1! - before.v1!).toBeLessThanOrEqual(8);
  });
});
