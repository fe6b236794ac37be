/** One finished call, as the admin endpoint's tap shows it. */
export interface RequestCompletion {
  /** When it finished, in ms since the epoch. */
  at: number;
  /** Logical service. */
  service: string;
  /** The route the caller named (`''` for none). */
  route: string;
  /** HTTP method. */
  method: string;
  /** Path with query string. */
  path: string;
  /** The endpoint (`host:port`) of the last attempt, if one was chosen. */
  endpoint: string | undefined;
  /** Response status, when there was a response. */
  status: number | undefined;
  /**
   * The error code, when the call ended in an error, or when its body failed after the headers
   * (then `status` is set too: the upstream answered, and the body was cut short or stalled).
   */
  error: string | undefined;
  /** Time to the response headers (or the error), in ms. */
  headersMs: number;
  /** Time to the end of the response body (or the error), in ms. */
  latencyMs: number;
  /** Attempts made (1 without retries). */
  attempts: number;
  /** Time the call's deadline had left when it finished, in ms; `null` without a deadline. */
  deadlineLeftMs: number | null;
}

/** Receives finished calls. It runs on the request path's tail, so it must only queue them. */
export type CompletionListener = (completion: RequestCompletion) => void;

/**
 * Hands finished calls to whoever watches them (the admin endpoint's tap). With nobody
 * watching, the metrics layer builds no completion at all: `active` is the one check it pays.
 */
export class CompletionFeed {
  #listeners: readonly CompletionListener[] = [];

  /** True while someone is subscribed. */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: CompletionListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Gives a completion to every listener; a listener that throws is skipped, never the caller's problem. */
  publish(completion: RequestCompletion): void {
    for (const listener of this.#listeners) {
      try {
        listener(completion);
      } catch {
        // A watcher's bug must not fail or slow the request it watches.
      }
    }
  }
}
