import pRetry, { AbortError, type RetryContext } from 'p-retry';
import type { RequestContext } from '../core/context.js';
import { TrellisError } from '../core/errors.js';
import { responseFlags } from '../core/failure-flags.js';
import type { MeshResponse, Service, ServiceHandle } from '../core/layer.js';
import { errorFlags } from '../core/outcome.js';
import { sleep } from '../core/time.js';
import { abortedError } from '../transport/transport-errors.js';
import type { ReplayableStream } from './replayable-body.js';
import type { RetryBudget } from './retry-budget.js';
import type { RetryPolicy } from './retry-policy.js';

/** What every retried request of one service shares. */
export interface RetryConfig {
  readonly next: Service;
  readonly service: ServiceHandle;
  readonly budget: RetryBudget;
  /** Retries per request at most. */
  readonly retries: number;
  readonly policy: RetryPolicy;
}

/**
 * A response the policy asked to retry, thrown to p-retry, for which a failed attempt is one
 * that throws. Never escapes the retry loop: when no retry follows, the response is returned.
 */
class RetryableResponse extends Error {
  constructor(readonly response: MeshResponse) {
    super(`retryable status ${response.statusCode}`);
  }
}

/** Discards a response that will not be returned, keeping its connection reusable when cheap. */
function discard(response: MeshResponse): void {
  response.body.dump({ limit: 65_536 }).catch(() => {});
}

/** The failure the caller gets when the budget stopped a retry: the original one, with a note. */
function budgetNoted(failure: unknown): unknown {
  if (!(failure instanceof TrellisError)) return failure;
  return new TrellisError(
    failure.code,
    `${failure.message} It was not retried: the service's retry budget is spent (too many retries recently), ` +
      'which protects an unhealthy upstream from a retry storm.',
    { cause: failure.cause, details: { ...failure.details, retryBudgetExhausted: true } },
  );
}

/** The failure the caller gets when its streamed body was too long to replay: the original one, with a note. */
function bodyTooLongNoted(failure: unknown, body: ReplayableStream): unknown {
  if (!(failure instanceof TrellisError)) return failure;
  return new TrellisError(
    failure.code,
    `${failure.message} It was not retried: its streamed request body was longer than the ${body.limitBytes} ` +
      'bytes the retry layer keeps to replay (retries({ maxBufferBytes })); send a Buffer or string to make it retryable.',
    { cause: failure.cause, details: { ...failure.details, retryRefused: 'body-too-long' } },
  );
}

/** A short name for a failure, for the `retry` event: the status or the error code. */
function describe(response: MeshResponse | undefined, error: unknown): string {
  if (response !== undefined) return `status ${response.statusCode}`;
  const failure = error as { code?: unknown; name?: unknown } | null | undefined;
  if (typeof failure?.code === 'string') return failure.code;
  return typeof failure?.name === 'string' ? failure.name : String(error);
}

/**
 * The retries of one request, driven by p-retry through its documented hooks: each attempt
 * throws what the policy wants retried and wraps what it does not in p-retry's `AbortError`;
 * `onFailedAttempt` waits (the policy's delay, the deadline, the budget) before the next one,
 * or throws to stop. The first attempt ran before (outside p-retry, so that a request that
 * succeeds pays nothing for it), and the first retry is prepared here the same way.
 */
class RetryLoop {
  #budgetSpent = false;
  #tooLong = false;
  readonly #config: RetryConfig;
  readonly #ctx: RequestContext;
  /** A streamed request body, replayed on each retry while what was read of it fits its limit. */
  readonly #stream: ReplayableStream | undefined;

  constructor(config: RetryConfig, ctx: RequestContext, stream: ReplayableStream | undefined) {
    this.#config = config;
    this.#ctx = ctx;
    this.#stream = stream;
  }

  /** The failure the caller gets when no retry follows, with a note when the loop refused one. */
  #noted(failure: unknown): unknown {
    if (this.#budgetSpent) return budgetNoted(failure);
    return this.#tooLong && this.#stream !== undefined ? bodyTooLongNoted(failure, this.#stream) : failure;
  }

  /** Retries after the first attempt's outcome (a response the policy retries, or an error). */
  async run(response: MeshResponse | undefined, error: unknown): Promise<MeshResponse> {
    if (!(await this.#prepare(response, error, 1))) {
      if (response !== undefined) return response;
      throw this.#noted(error);
    }
    try {
      return await pRetry(this.#attempt, {
        retries: this.#config.retries - 1,
        minTimeout: 0, // the policy's delay is waited in onFailedAttempt
        onFailedAttempt: this.#onFailedAttempt,
      });
    } catch (err) {
      if (err instanceof RetryableResponse) return err.response;
      throw this.#noted(err);
    }
  }

  /** Retry number `retry`, p-retry's attempt `retry`. */
  readonly #attempt = async (retry: number): Promise<MeshResponse> => {
    const ctx = this.#ctx;
    const policy = this.#config.policy;
    ctx.attempt = retry + 1;
    ctx.avoid = ctx.endpoint;
    if (this.#stream !== undefined) ctx.body = this.#stream.attempt();
    ctx.stamp?.restamp(ctx);
    let response: MeshResponse;
    try {
      response = await this.#config.next(ctx);
    } catch (err) {
      if (policy.shouldRetry(ctx, undefined, err, errorFlags(err))) throw err;
      throw err instanceof Error ? new AbortError(err) : err;
    }
    if (policy.shouldRetry(ctx, response, undefined, responseFlags(response)))
      throw new RetryableResponse(response);
    return response;
  };

  /** Between two attempts: prepares the next one, or throws the failure to stop. */
  readonly #onFailedAttempt = async ({
    error,
    retriesLeft,
    retriesConsumed,
  }: RetryContext): Promise<void> => {
    if (retriesLeft === 0) return; // p-retry gives up and rejects with `error`
    const response = error instanceof RetryableResponse ? error.response : undefined;
    if (!(await this.#prepare(response, response === undefined ? error : undefined, retriesConsumed + 2)))
      throw error;
  };

  /**
   * Whether retry number `retry` goes ahead after this outcome, waiting its delay first: not
   * when a streamed body outgrew what is kept to replay it, when the policy gives up, when the
   * wait alone would use up the deadline, or when the budget is spent.
   */
  async #prepare(response: MeshResponse | undefined, error: unknown, retry: number): Promise<boolean> {
    const { service, budget, policy } = this.#config;
    const ctx = this.#ctx;
    if (this.#stream !== undefined && !this.#stream.replayable) {
      this.#tooLong = true;
      return false;
    }
    const delay = policy.delayMs(ctx, response, error, retry);
    if (delay === undefined || performance.now() + delay >= ctx.deadline) return false;
    if (!budget.tryWithdraw()) {
      this.#budgetSpent = true;
      service.events.emit('retryBudgetExhausted', service.name);
      return false;
    }
    service.events.emit('retry', service.name, retry + 1, describe(response, error));
    if (response !== undefined) discard(response);
    if (delay > 0) {
      try {
        await sleep(delay, ctx.signal);
      } catch (reason) {
        // A cancelled wait fails as a cancelled request does in any other phase.
        throw abortedError(reason, ctx, true);
      }
    }
    return true;
  }
}

/** Runs the retries of one request whose first attempt ended with this outcome, which the policy retries. */
export function retryAfterFirst(
  config: RetryConfig,
  ctx: RequestContext,
  response: MeshResponse | undefined,
  error: unknown,
  stream?: ReplayableStream,
): Promise<MeshResponse> {
  return new RetryLoop(config, ctx, stream).run(response, error);
}
