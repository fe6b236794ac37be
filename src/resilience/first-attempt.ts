import type { RequestContext } from '../core/context.js';
import { responseFlags } from '../core/failure-flags.js';
import { FreeList, type Reusable } from '../core/free-list.js';
import type { Interception } from '../core/interceptor.js';
import type { MeshResponse } from '../core/layer.js';
import { errorFlags } from '../core/outcome.js';
import type { ReplayableStream } from './replayable-body.js';
import { type RetryConfig, retryAfterFirst } from './retry-loop.js';

/**
 * The first attempt of a request that may be retried: the retry layer's interception of it,
 * pooled, so a request that succeeds at once costs the retry layer no allocation and no async
 * frame.
 */
class FirstAttempt implements Interception, Reusable<FirstAttempt> {
  ctx: RequestContext | undefined = undefined;
  /** A streamed request body, replayed on a retry while what was read of it fits the limit. */
  stream: ReplayableStream | undefined = undefined;
  nextFree: FirstAttempt | undefined = undefined;
  readonly #attempts: FirstAttempts;

  constructor(attempts: FirstAttempts) {
    this.#attempts = attempts;
  }

  answered(response: MeshResponse): MeshResponse | Promise<MeshResponse> {
    return this.#attempts.answered(this, response);
  }

  failed(error: unknown): Promise<MeshResponse> {
    return this.#attempts.failed(this, error);
  }
}

/**
 * Watches the first attempts of one service's retryable requests, and hands an outcome the
 * policy retries to the retry loop (p-retry), which runs only then.
 */
export class FirstAttempts {
  readonly #free = new FreeList(() => new FirstAttempt(this));
  readonly #config: RetryConfig;

  constructor(config: RetryConfig) {
    this.#config = config;
  }

  /** The first attempt of `ctx`, whose body can be sent again (`stream` while it fits), starts. */
  start(ctx: RequestContext, stream: ReplayableStream | undefined): FirstAttempt {
    const attempt = this.#free.take();
    attempt.ctx = ctx;
    attempt.stream = stream;
    return attempt;
  }

  answered(attempt: FirstAttempt, response: MeshResponse): MeshResponse | Promise<MeshResponse> {
    const ctx = attempt.ctx as RequestContext;
    const stream = attempt.stream;
    this.#release(attempt);
    if (!this.#config.policy.shouldRetry(ctx, response, undefined, responseFlags(response))) return response;
    return retryAfterFirst(this.#config, ctx, response, undefined, stream);
  }

  failed(attempt: FirstAttempt, error: unknown): Promise<MeshResponse> {
    const ctx = attempt.ctx as RequestContext;
    const stream = attempt.stream;
    this.#release(attempt);
    if (!this.#config.policy.shouldRetry(ctx, undefined, error, errorFlags(error))) throw error;
    return retryAfterFirst(this.#config, ctx, undefined, error, stream);
  }

  /** Gives the record back to the pool once what it held has been read. */
  #release(attempt: FirstAttempt): void {
    attempt.ctx = attempt.stream = undefined;
    this.#free.give(attempt);
  }
}
