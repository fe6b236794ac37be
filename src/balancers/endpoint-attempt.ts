import type { Balancer } from '../core/balancer.js';
import type { EndpointView } from '../core/endpoint.js';
import { FailureFlag, isFailedStatus, isUpstreamFailure } from '../core/failure-flags.js';
import { FreeList, type Reusable } from '../core/free-list.js';
import type { Interception } from '../core/interceptor.js';
import type { MeshResponse } from '../core/layer.js';
import { errorFlags } from '../core/outcome.js';
import { stepNow } from '../core/step-clock.js';

/**
 * One attempt on one endpoint, as the balance layer counts it: the layer's interception of the
 * attempt, pooled, so an attempt costs no allocation and no async frame.
 */
export class EndpointAttempt implements Interception, Reusable<EndpointAttempt> {
  endpoint: EndpointView | undefined = undefined;
  /** When it was sent, on `performance.now()`'s clock (read only for a balancer that learns). */
  started = 0;
  nextFree: EndpointAttempt | undefined = undefined;
  readonly #attempts: EndpointAttempts;

  constructor(attempts: EndpointAttempts) {
    this.#attempts = attempts;
  }

  /** The endpoint answered. */
  answered(response: MeshResponse): MeshResponse {
    return this.#attempts.answered(this, response);
  }

  /** The attempt failed before any answer; rethrows. */
  failed(error: unknown): never {
    return this.#attempts.failed(this, error);
  }
}

/**
 * The attempts of one service: counts each on its endpoint (in flight, sent, failed when the
 * endpoint failed it: see `EndpointView.failures`) and tells the balancer, when it learns
 * (`observe`), how long the endpoint took to answer (time to response headers) and whether the
 * answer was a success (not a 5xx, not a transport error). An attempt that ended in a local error
 * (the caller's abort, a lost hedge race, a request body that failed) times nothing about the
 * endpoint: no sample, as health does not blame it either.
 */
export class EndpointAttempts {
  readonly #free = new FreeList(() => new EndpointAttempt(this));
  /** The balancer's `observe`, bound once; undefined for a balancer that learns nothing. */
  readonly #observe: Balancer['observe'];

  constructor(balancer: Balancer) {
    this.#observe = balancer.observe?.bind(balancer);
  }

  /** An attempt on `endpoint` starts now. */
  start(endpoint: EndpointView): EndpointAttempt {
    const attempt = this.#free.take();
    attempt.endpoint = endpoint;
    endpoint.inflight++;
    endpoint.attempts++;
    if (this.#observe !== undefined) attempt.started = stepNow();
    return attempt;
  }

  answered(attempt: EndpointAttempt, response: MeshResponse): MeshResponse {
    const started = attempt.started;
    const endpoint = this.#release(attempt);
    const ok = !isFailedStatus(response.statusCode);
    if (!ok) endpoint.failures++;
    try {
      this.#sample(endpoint, started, ok);
    } finally {
      endpoint.inflight--;
    }
    return response;
  }

  failed(attempt: EndpointAttempt, error: unknown): never {
    const started = attempt.started;
    const endpoint = this.#release(attempt);
    const flags = errorFlags(error);
    if (isUpstreamFailure(flags)) endpoint.failures++;
    try {
      if ((flags & FailureFlag.Local) === 0) this.#sample(endpoint, started, false);
    } finally {
      endpoint.inflight--;
    }
    throw error;
  }

  /** Tells a balancer that learns how the attempt went; no clock read for one that does not. */
  #sample(endpoint: EndpointView, started: number, ok: boolean): void {
    const observe = this.#observe;
    if (observe === undefined) return;
    const ended = stepNow();
    observe(endpoint, ended - started, ok, ended);
  }

  /** Takes the endpoint out of the record and gives the record back (it is read no more). */
  #release(attempt: EndpointAttempt): EndpointView {
    const endpoint = attempt.endpoint as EndpointView;
    attempt.endpoint = undefined;
    this.#free.give(attempt);
    return endpoint;
  }
}
