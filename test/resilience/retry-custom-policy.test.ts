import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/index.js';
import { staticEndpoints } from '../../src/discovery/index.js';
import { ErrorCode, isTrellisError, Mesh, type MeshResponse, type RequestContext } from '../../src/index.js';
import { defaultRetryPolicy, FailureFlag, type RetryPolicy, retries } from '../../src/resilience/index.js';
import { type CountingUpstream, startCounting } from '../support/resilience-upstreams.js';

let a: CountingUpstream;
let b: CountingUpstream;
let mesh: Mesh;
let seq = 0;

/** What the policy was asked: the attempt that ended, its status and flags; and each delay asked for. */
const asked: Array<{ method: string; attempt: number; status: number | undefined; flags: number }> = [];
const delays: number[] = [];

const standard = defaultRetryPolicy();
/** Retries a POST the upstream answered 503 (which the default never does), and nothing else. */
const postOn503: RetryPolicy = {
  shouldRetry(ctx: RequestContext, response: MeshResponse | undefined, _error: unknown, flags: number) {
    asked.push({ method: ctx.method, attempt: ctx.attempt, status: response?.statusCode, flags });
    return ctx.method === 'POST' && response?.statusCode === 503;
  },
  delayMs(ctx, response, error, retry) {
    delays.push(retry);
    return standard.delayMs(ctx, response, error, retry);
  },
};

beforeAll(async () => {
  [a, b] = await startCounting('policy-a', 'policy-b');
  await Promise.all([a.mode('fail503'), b.mode('fail503')]);
  mesh = Mesh.builder()
    .stack((st) => st.remove('breaker').remove('health'))
    .service('pair', (s) =>
      s
        .discovery(staticEndpoints([a.address, b.address]))
        .balancer(roundRobin())
        .layer(retries({ retries: 2, policy: postOn503, budget: { percent: 1, minPerSecond: 100 } })),
    )
    .build();
});

afterAll(async () => {
  await mesh.close();
  await Promise.all([a.kill(), b.kill()]);
});

async function call(method: string): Promise<{ status: number; runs: number }> {
  const requestId = `policy-${process.pid}-${++seq}`;
  const res = await mesh.request({
    service: 'pair',
    method,
    path: '/work',
    headers: { 'x-request-id': requestId },
  });
  await res.body.dump();
  const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
  return { status: res.statusCode, runs: (sa.executed[requestId] ?? 0) + (sb.executed[requestId] ?? 0) };
}

describe('retries({ policy })', () => {
  it('retries what a custom policy asks for, a POST answered 503, as often as retries allows', async () => {
    asked.length = delays.length = 0;
    const { status, runs } = await call('POST');
    expect(status).toBe(503);
    expect(runs).toBe(3);
    expect(asked.map((q) => q.attempt)).toEqual([1, 2, 3]);
    expect(
      asked.every((q) => q.status === 503 && q.flags === (FailureFlag.Failed | FailureFlag.Rejected)),
    ).toBe(true);
    expect(delays).toEqual([1, 2]);
  });

  it('replaces the default policy: a GET answered 503, which the default retries, is not', async () => {
    asked.length = delays.length = 0;
    const { status, runs } = await call('GET');
    expect(status).toBe(503);
    expect(runs).toBe(1);
    expect(asked).toEqual([
      { method: 'GET', attempt: 1, status: 503, flags: FailureFlag.Failed | FailureFlag.Rejected },
    ]);
    expect(delays).toEqual([]);
  });

  it("refuses the default policy's options next to a policy, and a policy without its methods", () => {
    let failure: unknown;
    try {
      Mesh.builder()
        .service('x', (s) =>
          s.discovery(staticEndpoints([a.address])).layer(retries({ policy: postOn503, statuses: [500] })),
        )
        .service('y', (s) =>
          s
            .discovery(staticEndpoints([a.address]))
            .layer(retries({ policy: { shouldRetry: () => true } as unknown as RetryPolicy })),
        )
        .build();
    } catch (err) {
      failure = err;
    }
    expect(isTrellisError(failure, ErrorCode.InvalidConfig)).toBe(true);
    const problems = (failure as { details: { problems: string[] } }).details.problems.join('\n');
    expect(problems).toContain('statuses configures the default policy');
    expect(problems).toContain('policy must be an object with shouldRetry() and delayMs()');
  });
});
