import { ErrorCode, TrellisError } from '../core/errors.js';
import { optionKeys, unknownOptions } from '../core/validate.js';
import { type Endpoint, type EndpointInput, parseEndpoint } from './endpoint.js';
import { KeyedEndpoints } from './keyed-endpoints.js';
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
  /**
   * Longest time, in ms, an update waits while updates keep coming.
   *
   * @defaultValue 1000
   */
  maxDelayMs?: number;
  /**
   * How long, in ms, an update that would empty a non-empty set is held back ("always available
   * discovery"): traffic keeps going to the last known endpoints, and a non-empty update in the
   * meantime cancels the hold. After the grace period the empty set is applied. 0 applies empty
   * sets at once. Default 30000.
   */
  emptySetGraceMs?: number;
  /**
   * Most endpoints (or, for keyed resolvers, keys) one service may have: a larger update is
   * refused whole, a key beyond the limit alone, and what was in force stays. Default 250000.
   */
  maxEndpoints?: number;
}

/** The defaults of {@link UpdatePolicy}. */
export const DEFAULT_UPDATE_POLICY: Readonly<Required<UpdatePolicy>> = Object.freeze({
  debounceMs: 100,
  maxDelayMs: 1000,
  emptySetGraceMs: 30_000,
  maxEndpoints: 250_000,
});

/** Longest source key a keyed resolver may use, in characters. */
export const MAX_KEY_LENGTH = 4096;

const UPDATE_POLICY_KEYS = optionKeys<UpdatePolicy>({
  debounceMs: true,
  maxDelayMs: true,
  emptySetGraceMs: true,
  maxEndpoints: true,
});

/** Problems with an {@link UpdatePolicy} (empty when valid), unknown keys included. */
export function validateUpdatePolicy(policy: UpdatePolicy | undefined): string[] {
  // A resolver's `updates` option: said as such, not as a function call.
  const problems = unknownOptions('updates', policy, UPDATE_POLICY_KEYS).map((p) =>
    p.replace('updates()', 'updates'),
  );
  if (problems.length > 0) return problems;
  for (const key of ['debounceMs', 'maxDelayMs', 'emptySetGraceMs'] as const) {
    const value = policy?.[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      problems.push(`updates.${key} must be a number of milliseconds >= 0, not ${JSON.stringify(value)}`);
    }
  }
  const max = policy?.maxEndpoints;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
    problems.push(`updates.maxEndpoints must be an integer >= 1, not ${JSON.stringify(max)}`);
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
  /**
   * Changes to the set last passed on, by endpoint id: the new record, or `null` when the id
   * left. One entry per id (bursts are coalesced); the map is the receiver's to keep.
   */
  change(changes: Map<string, Endpoint | null>): void;
  /** A failed resolution or a rejected update. */
  error(err: Error): void;
}

/** The refusal of one keyed entry: the rest of the set is unaffected. */
function refusedEntry(key: string, why: string, cause?: unknown): TrellisError {
  return new TrellisError(
    ErrorCode.InvalidDiscoveryData,
    `Discovery entry '${key.slice(0, 200)}' was refused: ${why}. Whatever the key held before stays in use.`,
    { cause, details: { key: key.slice(0, 200) } },
  );
}

/**
 * Sits between a resolver and the mesh: validates each update (a malformed whole set is reported
 * and dropped, a malformed keyed entry alone is refused, so the last good state stays), debounces
 * bursts, and holds back an update that would empty a non-empty set for a grace period. The mesh
 * wraps every resolver's sink in one.
 *
 * Keyed changes are kept by key and passed on as the changed ids only, so
 * one registration costs the same with 10 endpoints as with 100 000, and a key flapping up and
 * down between two applies is passed on once, as its latest state.
 */
export class UpdateGuard implements ResolverSink {
  readonly #target: ValidatedSink;
  readonly #service: string;
  readonly #policy: Required<UpdatePolicy>;
  /** Size of the last set passed on, -1 before the first. */
  #appliedSize = -1;
  /** A whole set waiting to be applied. */
  #pending: Endpoint[] | undefined;
  /** The keyed state as the resolver last described it (keyed resolvers only). */
  #keyed: KeyedEndpoints | undefined;
  /** The keyed state must go out as a whole set (after a snapshot, or a switch from whole sets). */
  #keyedWhole = false;
  /** A re-read in progress: keys set now go here, and replace `#keyed` when it ends. */
  #snapshot: KeyedEndpoints | undefined;
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
    // A newer update supersedes one still being validated, and any re-read of keys.
    this.#validation = undefined;
    this.#snapshot = undefined;
    if (!Array.isArray(inputs)) {
      this.#target.error(new TypeError('a resolver must publish an array of endpoints'));
      return;
    }
    if (inputs.length > this.#policy.maxEndpoints) {
      this.#target.error(this.#tooMany(inputs.length));
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

  set(key: string, input: EndpointInput): void {
    if (this.#closed) return;
    if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH) {
      this.#target.error(
        refusedEntry(String(key), `a key must be a string of at most ${MAX_KEY_LENGTH} characters`),
      );
      return;
    }
    let endpoint: Endpoint;
    try {
      endpoint = parseEndpoint(input);
    } catch (err) {
      this.#target.error(refusedEntry(key, (err as Error).message, err));
      return;
    }
    const into = this.#snapshot ?? this.#keyedState();
    if (into.keys >= this.#policy.maxEndpoints && into.get(key) === undefined) {
      this.#target.error(
        refusedEntry(key, `the service already has ${into.keys} keys, the most updates.maxEndpoints allows`),
      );
      return;
    }
    into.set(key, endpoint);
    if (into !== this.#snapshot) this.#schedule();
  }

  delete(key: string): void {
    if (this.#closed) return;
    const from = this.#snapshot ?? this.#keyed;
    if (from?.delete(key) && from !== this.#snapshot) this.#schedule();
  }

  beginSnapshot(): void {
    if (this.#closed) return;
    this.#validation = undefined;
    this.#snapshot = new KeyedEndpoints();
  }

  endSnapshot(): void {
    const snapshot = this.#snapshot;
    if (snapshot === undefined || this.#closed) return;
    this.#snapshot = undefined;
    this.#keyed = snapshot;
    this.#keyedWhole = true;
    this.#pending = undefined;
    this.#schedule();
  }

  error(err: Error): void {
    if (!this.#closed) this.#target.error(err);
  }

  /** Cancels pending timers; nothing is applied after this. */
  close(): void {
    this.#closed = true;
    this.#validation = undefined;
    this.#snapshot = undefined;
    clearTimeout(this.#debounceTimer);
    clearTimeout(this.#graceTimer);
    this.#debounceTimer = undefined;
    this.#graceTimer = undefined;
    this.#pending = undefined;
    this.#keyed = undefined;
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

  /** Takes a validated whole set; it replaces anything waiting, keyed state included. */
  #accept(endpoints: Endpoint[]): void {
    this.#pending = endpoints;
    this.#keyed = undefined;
    this.#keyedWhole = false;
    this.#schedule();
  }

  /** The keyed state, created on a resolver's first key (which then replaces any whole set). */
  #keyedState(): KeyedEndpoints {
    if (this.#keyed === undefined) {
      this.#keyed = new KeyedEndpoints();
      this.#keyedWhole = true;
      this.#pending = undefined;
    }
    return this.#keyed;
  }

  /**
   * Something changed: the first set applies at once, later ones once the source has been quiet
   * for `debounceMs`, or has kept changing for `maxDelayMs`.
   */
  #schedule(): void {
    if (this.#appliedSize < 0) {
      this.#flush();
      return;
    }
    const now = performance.now();
    if (this.#debounceTimer === undefined) this.#firstPendingAt = now;
    clearTimeout(this.#debounceTimer);
    const waited = now - this.#firstPendingAt;
    const delay = Math.max(0, Math.min(this.#policy.debounceMs, this.#policy.maxDelayMs - waited));
    this.#debounceTimer = setTimeout(this.#onDebounce, delay);
    this.#debounceTimer.unref();
  }

  readonly #onDebounce = (): void => {
    this.#debounceTimer = undefined;
    this.#flush();
  };

  /** The size the set will have once what is waiting is applied; undefined when nothing waits. */
  #pendingSize(): number | undefined {
    if (this.#pending !== undefined) return this.#pending.length;
    const keyed = this.#keyed;
    if (keyed !== undefined && (this.#keyedWhole || keyed.changed)) return keyed.size;
    return undefined;
  }

  #flush(): void {
    const size = this.#pendingSize();
    if (size === undefined || this.#closed) return;
    if (size === 0 && this.#appliedSize > 0 && this.#policy.emptySetGraceMs > 0) {
      this.#holdEmpty();
      return;
    }
    this.#applyPending();
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
      if (!this.#closed) this.#applyPending();
    }, graceMs);
    this.#graceTimer.unref();
  }

  #applyPending(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const whole = this.#pending;
    if (whole !== undefined) {
      this.#pending = undefined;
      this.#appliedSize = whole.length;
      this.#target.update(whole);
      return;
    }
    const keyed = this.#keyed;
    if (keyed === undefined) return;
    this.#appliedSize = keyed.size;
    const changes = keyed.takeChanges();
    if (this.#keyedWhole) {
      this.#keyedWhole = false;
      this.#target.update([...keyed.values()]);
    } else if (changes.size > 0) {
      this.#target.change(changes);
    }
  }

  #tooMany(count: number): TrellisError {
    return new TrellisError(
      ErrorCode.InvalidDiscoveryData,
      `Discovery for '${this.#service}' listed ${count} endpoints, more than updates.maxEndpoints ` +
        `(${this.#policy.maxEndpoints}); the update was refused and the last good set stays in use. ` +
        'Raise maxEndpoints if the service really is this large.',
      { details: { service: this.#service, count, maxEndpoints: this.#policy.maxEndpoints } },
    );
  }
}
