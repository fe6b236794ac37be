import type { Balancer, BalancerFactory, EndpointSnapshot } from '../core/balancer.js';
import type { RequestContext } from '../core/context.js';
import type { EndpointView } from '../core/endpoint.js';
import { getHeader } from '../core/headers.js';
import { optionKeys, unknownOptions } from '../core/validate.js';
import { eligibleEndpoints } from './eligibility.js';
import { hashString, mix32 } from './hash.js';
import {
  type BalancerOptions,
  checkBalancerOptions,
  checkPositive,
  type ResolvedBalancerOptions,
  resolveBalancerOptions,
} from './options.js';
import { snapshotOf } from './snapshot.js';

/** Options of {@link ringHash}. */
export interface RingHashOptions extends BalancerOptions {
  /** The request header whose value is the key, or a function of the request returning the key. */
  key: string | ((ctx: RequestContext) => string | undefined);
  /**
   * Points on the ring per endpoint of average weight (default 100); more points, smoother
   * spread. The ring holds at most 65 536 points in all, so that rebuilding it for a large set
   * takes milliseconds: beyond 655 endpoints each gets fewer points (at least one).
   */
  pointsPerEndpoint?: number;
  /**
   * Bounded load: no endpoint takes more than `(1 + loadFactor)` times the average number of
   * requests in flight; a key whose endpoint is full moves to the next one on the ring
   * (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded Loads", 2018).
   * Default 0.25; `Infinity` turns the bound off.
   */
  loadFactor?: number;
}

const DEFAULT_POINTS = 100;
const MAX_RING_POINTS = 65_536;
const DEFAULT_LOAD_FACTOR = 0.25;
const GOLDEN = 0x9e3779b9;
/** Ring points are sorted as `hash * 2^21 + owner`, exact in a double for up to 2^21 endpoints. */
const OWNER_SPACE = 2 ** 21;

class RingHashBalancer implements Balancer {
  readonly name = 'ring-hash';
  readonly #options: ResolvedBalancerOptions;
  readonly #key: (ctx: RequestContext) => string | undefined;
  readonly #points: number;
  readonly #loadFactor: number;
  #members: readonly EndpointView[] = [];
  #weights: number[] = [];
  #hashes = new Uint32Array(0);
  #owners = new Uint32Array(0);
  #eligible = new Uint8Array(0);
  #eligibleList: EndpointView[] = [];
  /** Requests picked and not yet observed: the total load the bound is computed from. */
  #inflight = 0;

  constructor(options: RingHashOptions, resolved: ResolvedBalancerOptions) {
    this.#options = resolved;
    const key = options.key;
    this.#key = typeof key === 'function' ? key : (ctx) => getHeader(ctx.headers, key);
    this.#points = options.pointsPerEndpoint ?? DEFAULT_POINTS;
    this.#loadFactor = options.loadFactor ?? DEFAULT_LOAD_FACTOR;
  }

  update(endpoints: readonly EndpointView[]): void {
    if (!this.#sameMembers(endpoints)) this.#build(endpoints);
    const eligibleList = eligibleEndpoints(endpoints, this.#options.panicThreshold).eligible;
    const eligible = new Uint8Array(endpoints.length);
    const index = new Map(endpoints.map((ep, i) => [ep, i]));
    for (const ep of eligibleList) eligible[index.get(ep)!] = 1;
    this.#eligible = eligible;
    this.#eligibleList = eligibleList;
  }

  /** Health changes reuse the ring; only membership or weight changes rebuild it. */
  #sameMembers(endpoints: readonly EndpointView[]): boolean {
    const members = this.#members;
    if (members.length !== endpoints.length) return false;
    for (let i = 0; i < members.length; i++) {
      if (members[i] !== endpoints[i] || this.#weights[i] !== endpoints[i]!.endpoint.weight) return false;
    }
    return true;
  }

  #build(endpoints: readonly EndpointView[]): void {
    const weights = endpoints.map((ep) => ep.endpoint.weight);
    const total = weights.reduce((a, b) => a + b, 0);
    const mean = total > 0 ? total / weights.length : 1;
    const points = Math.max(
      1,
      Math.min(this.#points, Math.floor(MAX_RING_POINTS / Math.max(endpoints.length, 1))),
    );
    const counts = weights.map((w) =>
      total > 0 ? (w > 0 ? Math.max(1, Math.round((points * w) / mean)) : 0) : points,
    );
    const size = counts.reduce((a, b) => a + b, 0);
    const sorted = new Float64Array(size);
    let at = 0;
    endpoints.forEach((ep, owner) => {
      const base = hashString(ep.id);
      for (let k = 0; k < counts[owner]!; k++) {
        sorted[at++] = mix32((base + Math.imul(k + 1, GOLDEN)) >>> 0) * OWNER_SPACE + owner;
      }
    });
    sorted.sort();
    const hashes = new Uint32Array(size);
    const owners = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      const point = sorted[i]!;
      owners[i] = point % OWNER_SPACE;
      hashes[i] = (point - owners[i]!) / OWNER_SPACE;
    }
    this.#members = endpoints;
    this.#weights = weights;
    this.#hashes = hashes;
    this.#owners = owners;
  }

  pick(ctx: RequestContext): EndpointView | undefined {
    const eligibleList = this.#eligibleList;
    const key = this.#key(ctx);
    if (key === undefined || this.#hashes.length === 0) {
      // No key: nothing to be sticky about, so spread uniformly.
      const fallback = eligibleList[Math.floor(this.#options.random() * eligibleList.length)];
      if (fallback) this.#inflight++;
      return fallback;
    }
    const capacity = Math.ceil(((1 + this.#loadFactor) * (this.#inflight + 1)) / eligibleList.length);
    const hashes = this.#hashes;
    const owners = this.#owners;
    const size = hashes.length;
    let position = firstAtOrAbove(hashes, hashString(key));
    for (let step = 0; step < size; step++, position++) {
      if (position === size) position = 0;
      const owner = owners[position]!;
      if (this.#eligible[owner] === 1 && this.#members[owner]!.inflight < capacity) {
        this.#inflight++;
        return this.#members[owner];
      }
    }
    return undefined;
  }

  observe(): void {
    if (this.#inflight > 0) this.#inflight--;
  }

  snapshot(): EndpointSnapshot[] {
    return this.#members.map((ep) => snapshotOf(ep));
  }
}

/** Index of the first element >= `value` in a sorted array, or `length` when there is none. */
function firstAtOrAbove(sorted: Uint32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const RING_HASH_KEYS = optionKeys<RingHashOptions>({
  panicThreshold: true,
  random: true,
  key: true,
  pointsPerEndpoint: true,
  loadFactor: true,
});

/**
 * Consistent hashing on a ring (Karger et al., 1997) with bounded load: requests with the same
 * key go to the same endpoint while it is active and not overloaded; adding or removing one of
 * N endpoints moves only about 1/N of the keys. Requests without a key are spread at random.
 * Slow start is not applied (it would break stickiness). Pick cost is O(log points).
 *
 * @example
 * ```ts
 * s.balancer(ringHash({ key: 'x-user-id' }));
 * s.balancer(ringHash({ key: (ctx) => ctx.path.split('/')[2] }));
 * ```
 */
export function ringHash(options: RingHashOptions): BalancerFactory {
  const name = 'ring-hash';
  return {
    name,
    validate: () => {
      const problems = [
        ...unknownOptions('ringHash', options, RING_HASH_KEYS),
        ...checkBalancerOptions(name, options),
      ];
      const key = options?.key;
      if (!((typeof key === 'string' && key.length > 0) || typeof key === 'function')) {
        problems.push(`${name}: key must be a header name or a function (ctx) => string | undefined`);
      }
      const points = options?.pointsPerEndpoint;
      if (points !== undefined && !(Number.isInteger(points) && points >= 1 && points <= 10_000)) {
        problems.push(
          `${name}: pointsPerEndpoint must be an integer from 1 to 10000, got ${JSON.stringify(points)}`,
        );
      }
      problems.push(
        ...checkPositive(name, 'loadFactor', options?.loadFactor === Infinity ? 1 : options?.loadFactor),
      );
      return problems;
    },
    create: () => new RingHashBalancer(options, resolveBalancerOptions(options)),
  };
}
