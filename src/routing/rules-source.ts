import { EventEmitter } from 'eventemitter3';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { parseRules } from './parse-rules.js';
import { EMPTY_ROUTE_TABLE, type RouteTable } from './rules.js';

/** A route layer listening to a source: it vets a new table, then applies it. */
export interface RulesSubscriber {
  /** The service the subscriber routes. */
  readonly service: string;
  /** Problems this table would cause for the service (for example an unknown backend). */
  check(table: RouteTable): string[];
  /** Puts a vetted table into force. */
  apply(table: RouteTable): void;
}

let subscribe!: (source: RulesSource, subscriber: RulesSubscriber) => () => Promise<void>;
let markLoaded!: (source: RulesSource) => void;

/**
 * Adds a route layer to a source. The table in force must suit it (else this throws, at mesh
 * build). The first subscriber starts the watch; the returned function unsubscribes, and the last
 * one out stops the watch.
 */
export function subscribeToRules(source: RulesSource, subscriber: RulesSubscriber): () => Promise<void> {
  return subscribe(source, subscriber);
}

/** Called by a source's watch once its first read is done (see `RulesSource.loaded`). */
export function markRulesLoaded(source: RulesSource): void {
  markLoaded(source);
}

/** Events a {@link RulesSource} emits. */
export interface RulesSourceEvents {
  /** A new table passed validation and is in force for every subscribed service. */
  applied: (table: RouteTable) => void;
  /** An update was invalid and was dropped; the previous table stays in force. */
  rejected: (error: TrellisError) => void;
  /** The source could not be read or watched for now (it keeps trying); the table in force stays. */
  unavailable: (error: Error) => void;
}

/**
 * Starts watching where the rules live; called when the first service subscribes. It offers
 * new rules with `source.offer(...)` and returns a function that stops the watch.
 */
export type RulesWatch = (source: RulesSource) => () => void | Promise<void>;

/**
 * The control plane for routing rules: holds the table in force and hands every new one to the
 * services that route by it. An update is validated as a whole (syntax, then every subscribed
 * service's view of it, such as backends the mesh does not know); if anything is wrong the
 * whole update is rejected and the previous table stays.
 *
 * Create one with {@link rulesSource} (set from code), `fileRules` (a watched file) or
 * `etcdRules` (an etcd key), and give it to `Mesh.builder().rules(source)`.
 */
export class RulesSource extends EventEmitter<RulesSourceEvents> {
  /** Where the rules come from, for messages. */
  readonly description: string;
  #table: RouteTable;
  #version: number;
  #origin: string;
  readonly #subscribers = new Set<RulesSubscriber>();
  readonly #watch: RulesWatch | undefined;
  #stop: (() => void | Promise<void>) | undefined;
  readonly #loaded: Promise<void>;
  #markLoaded: () => void = () => {};

  /**
   * @param description - where the rules come from (`file rules.yaml`, `etcd key /trellis/routes`)
   * @param initial - the first rules (any form {@link parseRules} takes); none by default
   * @param watch - starts watching for updates when the first service subscribes
   * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` when `initial` is invalid.
   */
  constructor(description: string, initial?: unknown, watch?: RulesWatch) {
    super();
    this.description = description;
    this.#table = initial === undefined ? EMPTY_ROUTE_TABLE : parseRules(initial, description);
    this.#version = initial === undefined ? 0 : 1;
    this.#origin = description;
    this.#watch = watch;
    this.#loaded =
      watch === undefined ? Promise.resolve() : new Promise((resolve) => (this.#markLoaded = resolve));
  }

  /**
   * Resolves once the watch has delivered its first rules (applied or rejected); at once for
   * sources that hold their first rules from the start. Sources watch only while a mesh uses
   * them, so await this after `build()`, e.g. before serving traffic from an etcd-driven mesh.
   * While the source cannot be reached it keeps waiting (and emits `unavailable`): race it
   * with a timer to start without rules after a while.
   */
  loaded(): Promise<void> {
    return this.#loaded;
  }

  /** The table in force. */
  get table(): RouteTable {
    return this.#table;
  }

  /**
   * The version of the table in force: the one its watch gave (the etcd revision for
   * `etcdRules`), else how many tables this source has put in force (0 while none, the first
   * rules given when it was created included).
   */
  get version(): number {
    return this.#version;
  }

  /** Where the table in force came from (the `origin` it was set with). */
  get origin(): string {
    return this.#origin;
  }

  /**
   * Validates `input` as a whole and, if every subscribed service accepts it, puts it in force
   * everywhere at once.
   *
   * @param input - rules in any form {@link parseRules} takes (data, YAML or JSON text)
   * @param origin - where this update came from, for messages
   * @param version - the update's version (an etcd revision); the version in force plus 1 by default
   * @returns the table now in force
   * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` listing every problem; nothing changes.
   */
  set(input: unknown, origin: string = this.description, version: number = this.#version + 1): RouteTable {
    let table: RouteTable;
    try {
      table = parseRules(input, origin);
      const problems: string[] = [];
      for (const subscriber of this.#subscribers) problems.push(...subscriber.check(table));
      if (problems.length > 0) {
        throw new TrellisError(
          ErrorCode.InvalidConfig,
          `Routing rules from ${origin} do not fit the mesh (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
            problems.map((p) => `  - ${p}`).join('\n') +
            '\nThe previous rules stay in force; fix the rules and publish them again.',
          { details: { problems, origin } },
        );
      }
    } catch (err) {
      this.emit('rejected', err as TrellisError);
      throw err;
    }
    this.#table = table;
    this.#version = version;
    this.#origin = origin;
    for (const subscriber of this.#subscribers) subscriber.apply(table);
    this.emit('applied', table);
    return table;
  }

  /**
   * Like {@link RulesSource.set}, for watchers: an invalid update is reported through the
   * `rejected` event instead of thrown.
   *
   * @returns whether the update is now in force
   */
  offer(input: unknown, origin: string = this.description, version: number = this.#version + 1): boolean {
    try {
      this.set(input, origin, version);
      return true;
    } catch {
      return false;
    }
  }

  // The route layer's and the watches' side of a source, kept out of its public members.
  static {
    subscribe = (source, subscriber) => source.#subscribe(subscriber);
    markLoaded = (source) => source.#markLoaded();
  }

  #subscribe(subscriber: RulesSubscriber): () => Promise<void> {
    const problems = subscriber.check(this.#table);
    if (problems.length > 0) {
      throw new TrellisError(
        ErrorCode.InvalidConfig,
        `Routing rules from ${this.description} do not fit service '${subscriber.service}':\n` +
          problems.map((p) => `  - ${p}`).join('\n'),
        { details: { problems } },
      );
    }
    this.#subscribers.add(subscriber);
    subscriber.apply(this.#table);
    if (this.#subscribers.size === 1 && this.#watch) this.#stop = this.#watch(this);
    return async () => {
      if (!this.#subscribers.delete(subscriber) || this.#subscribers.size > 0) return;
      const stop = this.#stop;
      this.#stop = undefined;
      await stop?.();
    };
  }
}

/**
 * A rules source changed from code with `source.set(rules)`; useful in tests and for control
 * planes that deliver rules their own way.
 *
 * @param initial - the first rules (any form `parseRules` takes); none by default
 */
export function rulesSource(initial?: unknown): RulesSource {
  return new RulesSource('rules set in code', initial);
}
