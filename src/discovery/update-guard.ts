import { ErrorCode, TrellisError } from '../core/errors.js';
import { type Endpoint, type EndpointInput, parseEndpoint } from './endpoint.js';
import type { ResolverSink } from './resolver.js';
import { SLICE_ITEMS, workSlice } from './time-slice.js';

/**
 * How the mesh applies a resolver's updates. Every resolver gets this treatment; resolvers take
 * it as an `updates` option (see {@link Resolver.updatePolicy}).
 */
export interface UpdatePolicy {
  /**
   * Quiet time, in ms, that a burst of updates must leave before the latest set is applied, so a
   * flapping source causes one rebalance, not many. The first set is applied at once. Default 100.
   */
  debounceMs?: number;
  /** Longest time, in ms, an update waits while updates keep coming. Default 1000. */
  maxDelayMs?: number;
  /**
   * How long, in ms, an update that would empty a non-empty set is held back ("always available
   * discovery"): traffic keeps going to the last known endpoints, and a non-empty update in the
   * meantime cancels the hold. After the grace period the empty set is applied. 0 applies empty
   * sets at once. Default 30000.
   */
  emptySetGraceMs?: number;
}

/** The defaults of {@link UpdatePolicy}. */
export const DEFAULT_UPDATE_POLICY: Readonly<Required<UpdatePolicy>> = Object.freeze({
  debounceMs: 100,
  maxDelayMs: 1000,
  emptySetGraceMs: 30_000,
});

/** Problems with an {@link UpdatePolicy} (empty when valid). */
export function validateUpdatePolicy(policy: UpdatePolicy | undefined): string[] {
  const problems: string[] = [];
  for (const key of ['debounceMs', 'maxDelayMs', 'emptySetGraceMs'] as const) {
    const value = policy?.[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      problems.push(`updates.${key} must be a number of milliseconds >= 0, not ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

/** A long update being validated in slices. */
interface Validation {
  readonly inputs: readonly EndpointInput[];
  readonly parsed: Endpoint[];
  next: number;
}

/** Where the guard delivers: sets it has validated, so the receiver need not check them again. */
export interface ValidatedSink {
  /** The complete, validated endpoint set. */
  update(endpoints: readonly Endpoint[]): void;
  /** A failed resolution or a rejected update. */
  error(err: Error): void;
}

/**
 * Sits between a resolver and the mesh: validates each update whole (a malformed one is reported
 * and dropped, so the last good set stays), debounces bursts, and holds back an update that would
 * empty a non-empty set for a grace period. The mesh wraps every resolver's sink in one.
 */
export class UpdateGuard implements ResolverSink {
  readonly #target: ValidatedSink;
  readonly #service: string;
  readonly #policy: Required<UpdatePolicy>;
  /** Size of the last set passed on, -1 before the first. */
  #appliedSize = -1;
  #pending: Endpoint[] | undefined;
  #firstPendingAt = 0;
  #debounceTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** The long update being validated; a newer update replaces it. */
  #validation: Validation | undefined;

  /**
   * @param target - where validated, debounced sets go (the service runtime)
   * @param service - service name, for messages
   * @param policy - timings; unset fields take {@link DEFAULT_UPDATE_POLICY}
   */
  constructor(target: ValidatedSink, service: string, policy: UpdatePolicy = {}) {
    this.#target = target;
    this.#service = service;
    this.#policy = { ...DEFAULT_UPDATE_POLICY, ...policy };
  }

  /** True while an empty update is being held back. */
  get holdingEmptySet(): boolean {
    return this.#graceTimer !== undefined;
  }

  update(inputs: readonly EndpointInput[]): void {
    if (this.#closed) return;
    // A newer update supersedes one still being validated.
    this.#validation = undefined;
    if (!Array.isArray(inputs)) {
      this.#target.error(new TypeError('a resolver must publish an array of endpoints'));
      return;
    }
    // Short updates, the common case, are validated at once (a malformed one is reported before
    // `update` returns); longer ones a slice at a time.
    if (inputs.length <= SLICE_ITEMS) {
      let endpoints: Endpoint[];
      try {
        endpoints = inputs.map(parseEndpoint);
      } catch (err) {
        this.#target.error(err as Error);
        return;
      }
      this.#accept(endpoints);
      return;
    }
    // Copied, so that a resolver reusing its array cannot change an update half-way through.
    this.#validation = { inputs: inputs.slice(), parsed: new Array(inputs.length), next: 0 };
    this.#continueValidation(this.#validation);
  }

  readonly #continueValidation = (validation: Validation): void => {
    if (validation !== this.#validation || this.#closed) return;
    const { inputs, parsed } = validation;
    let i: number;
    try {
      i = workSlice(validation.next, inputs.length, (at) => {
        parsed[at] = parseEndpoint(inputs[at]!);
      });
    } catch (err) {
      this.#validation = undefined;
      this.#target.error(err as Error);
      return;
    }
    validation.next = i;
    if (i < inputs.length) {
      setImmediate(this.#continueValidation, validation);
      return;
    }
    this.#validation = undefined;
    this.#accept(parsed);
  };

  /** Takes a validated update: the first set applies at once, later ones are debounced. */
  #accept(endpoints: Endpoint[]): void {
    if (this.#appliedSize < 0) {
      this.#apply(endpoints);
      return;
    }
    const now = performance.now();
    if (this.#pending === undefined) this.#firstPendingAt = now;
    this.#pending = endpoints;
    clearTimeout(this.#debounceTimer);
    const waited = now - this.#firstPendingAt;
    const delay = Math.max(0, Math.min(this.#policy.debounceMs, this.#policy.maxDelayMs - waited));
    this.#debounceTimer = setTimeout(() => this.#flush(), delay);
    this.#debounceTimer.unref();
  }

  error(err: Error): void {
    if (!this.#closed) this.#target.error(err);
  }

  /** Cancels pending timers; nothing is applied after this. */
  close(): void {
    this.#closed = true;
    this.#validation = undefined;
    clearTimeout(this.#debounceTimer);
    clearTimeout(this.#graceTimer);
    this.#debounceTimer = undefined;
    this.#graceTimer = undefined;
    this.#pending = undefined;
  }

  #flush(): void {
    this.#debounceTimer = undefined;
    const next = this.#pending;
    this.#pending = undefined;
    if (next === undefined || this.#closed) return;
    if (next.length === 0 && this.#appliedSize > 0 && this.#policy.emptySetGraceMs > 0) {
      this.#holdEmpty();
      return;
    }
    this.#apply(next);
  }

  #holdEmpty(): void {
    if (this.#graceTimer !== undefined) return;
    const graceMs = this.#policy.emptySetGraceMs;
    this.#target.error(
      new TrellisError(
        ErrorCode.NoEndpoints,
        `Discovery for '${this.#service}' now lists no endpoints; the last ${this.#appliedSize} stay in use ` +
          `for ${graceMs} ms in case this is a discovery fault. Check the registry if the service should be up.`,
        { details: { service: this.#service, heldBack: true, graceMs } },
      ),
    );
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      if (!this.#closed) this.#apply([]);
    }, graceMs);
    this.#graceTimer.unref();
  }

  #apply(endpoints: Endpoint[]): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#appliedSize = endpoints.length;
    this.#target.update(endpoints);
  }
}
