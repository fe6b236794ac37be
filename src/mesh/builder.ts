import { p2cPeakEwma } from '../balancers/p2c.js';
import type { BalancerFactory } from '../core/balancer.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { Stack } from '../core/stack.js';
import { claimProblem } from '../frontends/origin.js';
import { routes } from '../routing/route-layer.js';
import type { RulesSource } from '../routing/rules-source.js';
import type { ServiceConfig } from '../service/service-runtime.js';
import {
  type TransportOptions,
  validateEffectiveTransport,
  validateTransport,
} from '../transport/transport-options.js';
import { defaultStack } from './default-stack.js';
import type { MeshOptions } from './mesh-options.js';
import {
  createServiceBuilder,
  draftOf,
  type ServiceBuilder,
  type ServiceDraft,
  type StackEdit,
} from './service-builder.js';

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** The balancer services get when they name none: P2C peak-EWMA, as in linkerd2 and Finagle's EWMA mode. */
function defaultBalancer(): BalancerFactory {
  return p2cPeakEwma();
}

/** A validated mesh configuration: what the mesh is started from. */
export interface MeshPlan {
  /** Each service's configuration, its balancer and stack built. */
  readonly services: readonly ServiceConfig[];
  /** Mesh-wide settings. */
  readonly options: MeshOptions;
}

let plan!: (configuration: MeshConfiguration) => MeshPlan;

/**
 * The services and options a configuration describes, validated (for `MeshBuilder.build`).
 *
 * @throws {@link TrellisError} `TRELLIS_INVALID_CONFIG` listing every problem found.
 */
export function planOf(configuration: MeshConfiguration): MeshPlan {
  return plan(configuration);
}

/**
 * Collects and validates a mesh's configuration. `MeshBuilder` (in mesh.ts) adds `build()`,
 * which starts a mesh from the plan, so that this file does not import the mesh it configures
 * and the mesh can still offer `Mesh.builder()`. Use it through {@link Mesh.builder}.
 */
export class MeshConfiguration {
  readonly #services: ServiceBuilder[] = [];
  readonly #problems: string[] = [];
  readonly #stackEdits: StackEdit[] = [];
  #transport: TransportOptions = {};
  #closeTimeoutMs = DEFAULT_CLOSE_TIMEOUT_MS;

  /**
   * Adds a service reachable as `http://<name>/...` and by `service: name`.
   *
   * @param name - logical name: lower-case letters, digits, `-` and `.`, as in a host name
   * @param configure - sets discovery, balancer, stack and transport for the service
   */
  service(name: string, configure?: (service: ServiceBuilder) => unknown): this {
    const builder = createServiceBuilder(name);
    try {
      configure?.(builder);
    } catch (err) {
      // What the function configured before it threw is incomplete: report the throw alone.
      this.#problems.push(`service '${name}': its configure function threw: ${(err as Error).message}`);
      return this;
    }
    this.#services.push(builder);
    return this;
  }

  /** Edits the stack of every service (service-level edits apply after this one). */
  stack(edit: StackEdit): this {
    this.#stackEdits.push(edit);
    return this;
  }

  /**
   * Routing rules for every service from one source that may change them at run time
   * (`fileRules(path)`, `etcdRules(...)`, `rulesSource()`); each service follows its own entry.
   * Shorthand for replacing the `route` layer of every service with `routes(source)`; a
   * service's own `s.layer(routes(...))` still wins for that service.
   */
  rules(source: RulesSource): this {
    return this.stack((stack) => stack.replace(routes(source)));
  }

  /** Connection settings for every service (a service's own settings win). */
  transport(options: TransportOptions): this {
    this.#transport = { ...this.#transport, ...options };
    return this;
  }

  /**
   * How long `close()` lets requests in flight finish, in ms (default 10 000). Also how long an
   * endpoint that leaves discovery may finish its requests before its pool is cut.
   */
  closeTimeout(ms: number): this {
    this.#closeTimeoutMs = ms;
    return this;
  }

  static {
    plan = (configuration) => configuration.#plan();
  }

  /**
   * Validates the whole configuration.
   *
   * @throws {@link TrellisError} `TRELLIS_INVALID_CONFIG` listing every problem found.
   */
  #plan(): MeshPlan {
    const problems = [...this.#problems];
    if (!(Number.isInteger(this.#closeTimeoutMs) && this.#closeTimeoutMs >= 0)) {
      problems.push(
        `closeTimeout must be an integer number of ms >= 0, got ${JSON.stringify(this.#closeTimeoutMs)}`,
      );
    }
    problems.push(...validateTransport(this.#transport, 'mesh'));
    const base = this.#applyEdits(defaultStack(), this.#stackEdits, 'mesh', problems);
    const owners = new Map<string, string>();
    const configs: ServiceConfig[] = [];
    for (const builder of this.#services) {
      const config = this.#serviceConfig(draftOf(builder), base, owners, problems);
      if (config) configs.push(config);
    }
    if (problems.length > 0) {
      throw new TrellisError(
        ErrorCode.InvalidConfig,
        `Invalid mesh configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
          problems.map((p) => `  - ${p}`).join('\n'),
        { details: { problems } },
      );
    }
    return { services: configs, options: { closeTimeoutMs: this.#closeTimeoutMs } };
  }

  #applyEdits(
    stack: Stack | undefined,
    edits: StackEdit[],
    where: string,
    problems: string[],
  ): Stack | undefined {
    for (const edit of edits) {
      if (stack === undefined) return undefined;
      try {
        stack = edit(stack);
      } catch (err) {
        problems.push(`${where}: stack edit failed: ${(err as Error).message}`);
        return undefined;
      }
    }
    return stack;
  }

  #claim(host: string, service: string, owners: Map<string, string>, problems: string[]): void {
    const problem = claimProblem(host);
    if (problem !== undefined) {
      problems.push(`service '${service}': ${problem}`);
      return;
    }
    const owner = owners.get(host);
    if (owner !== undefined) {
      problems.push(
        owner === service
          ? `service '${service}' is defined twice: configure it in one .service() call`
          : `host '${host}' is claimed by both '${owner}' and '${service}': a host can address one service`,
      );
      return;
    }
    owners.set(host, service);
  }

  #serviceConfig(
    draft: ServiceDraft,
    base: Stack | undefined,
    owners: Map<string, string>,
    problems: string[],
  ): ServiceConfig | undefined {
    const where = `service '${draft.name}'`;
    const before = problems.length;
    for (const host of [draft.name, ...draft.hosts]) this.#claim(host, draft.name, owners, problems);
    if (draft.resolver === undefined) {
      problems.push(`${where} has no discovery: call .discovery(staticEndpoints([...])) or another resolver`);
    } else if (typeof draft.resolver.resolve !== 'function') {
      problems.push(`${where}: .discovery() needs a resolver such as staticEndpoints([...])`);
    } else {
      for (const problem of draft.resolver.validate?.() ?? []) problems.push(`${where}: ${problem}`);
    }
    const factory = draft.balancer ?? defaultBalancer();
    if (typeof factory.create !== 'function') {
      problems.push(`${where}: .balancer() needs a balancer factory such as roundRobin()`);
    } else {
      for (const problem of factory.validate?.() ?? []) problems.push(`${where}: ${problem}`);
    }
    const transport = { ...this.#transport, ...draft.transport };
    const transportProblems = validateTransport(draft.transport, where);
    problems.push(...transportProblems);
    if (transportProblems.length === 0) problems.push(...validateEffectiveTransport(transport, where));
    const stack = this.#applyEdits(base, draft.stackEdits, where, problems);
    for (const name of stack?.names ?? []) {
      for (const problem of stack!.get(name)!.validate?.() ?? []) problems.push(`${where}: ${problem}`);
    }
    if (problems.length > before || stack === undefined || draft.resolver === undefined) return undefined;
    return {
      name: draft.name,
      hosts: draft.hosts,
      resolver: draft.resolver,
      balancer: factory.create(draft.name),
      stack,
      transport,
    };
  }
}
