import { abortReason, isAborted, offAbort, onAbort } from '../core/cancel-token.js';
import type { RequestContext } from '../core/context.js';
import { ErrorCode, isTrellisError, TrellisError } from '../core/errors.js';

/**
 * How long a request with no deadline waits for a service's first endpoints before it fails with
 * `TRELLIS_NO_ENDPOINTS`: long enough for any resolver's first answer, short enough that a
 * broken discovery source shows up as an error rather than a hang.
 */
export const NO_DEADLINE_WAIT_MS = 10_000;

/**
 * A service's wait for the first endpoints discovery publishes, as Finagle and gRPC have requests
 * wait while a name is still being resolved: requests that find no endpoint before then wait for
 * them within their deadline, and `mesh.ready()` waits for every service's. Exists only until
 * the first endpoints arrive, so requests after that pay nothing for it.
 */
export class FirstEndpoints {
  /** Resolves when the first endpoints arrive, or when the service closes. */
  readonly arrival: Promise<void>;
  readonly #service: string;
  readonly #source: string;
  #arrived!: () => void;
  #lastError: Error | undefined;

  /**
   * @param service - the service's name, for messages
   * @param source - the resolver's description, for messages
   */
  constructor(service: string, source: string) {
    this.#service = service;
    this.#source = source;
    this.arrival = new Promise<void>((resolve) => {
      this.#arrived = resolve;
    });
  }

  /** The first endpoints are in the balancer (or the service is closing): let every waiter go. */
  arrived(): void {
    this.#arrived();
  }

  /** Keeps the latest discovery failure, to say why a wait ran out. */
  failed(err: Error): void {
    this.#lastError = err;
  }

  /** Why the service is still waiting: its resolver, and the latest discovery error if any. */
  describe(): string {
    const last =
      this.#lastError === undefined ? 'no error reported yet' : `last error: ${this.#lastError.message}`;
    return `'${this.#service}' (${this.#source}; ${last})`;
  }

  /**
   * Waits for the first endpoints within the request's deadline (or {@link NO_DEADLINE_WAIT_MS}
   * without one). Rejects with the caller's abort reason, or with `TRELLIS_NO_ENDPOINTS` when the
   * time runs out; the request was not sent either way.
   */
  wait(ctx: RequestContext): Promise<void> {
    const started = performance.now();
    const limit = ctx.deadline === Number.POSITIVE_INFINITY ? started + NO_DEADLINE_WAIT_MS : ctx.deadline;
    const signal = ctx.signal;
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: unknown) => {
        clearTimeout(timer);
        if (signal !== undefined) offAbort(signal, aborted);
        if (err === undefined) resolve();
        else reject(err);
      };
      const expired = () => finish(this.#expired(ctx, started));
      // The deadline layer reports a passed deadline through the signal; any other abort is the caller's.
      const aborted = () => {
        const reason = abortReason(signal!);
        finish(isTrellisError(reason, ErrorCode.DeadlineExceeded) ? this.#expired(ctx, started) : reason);
      };
      const timer = setTimeout(expired, Math.max(0, limit - started));
      if (signal !== undefined) {
        if (isAborted(signal)) return aborted();
        onAbort(signal, aborted);
      }
      void this.arrival.then(() => finish());
    });
  }

  #expired(ctx: RequestContext, started: number): TrellisError {
    const waited = Math.round(performance.now() - started);
    const why =
      ctx.deadline === Number.POSITIVE_INFINITY
        ? `a request with no deadline waits up to ${NO_DEADLINE_WAIT_MS} ms`
        : "the request's deadline";
    return new TrellisError(
      ErrorCode.NoEndpoints,
      `${ctx.method} ${ctx.service}${ctx.path} was not sent: discovery for ${this.describe()} published no ` +
        `endpoints in the ${waited} ms it waited (${why}). Check the discovery source, or await ` +
        'mesh.ready() before sending.',
      { details: { service: ctx.service, requestSent: false } },
    );
  }
}
