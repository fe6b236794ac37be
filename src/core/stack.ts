import { ErrorCode, TrellisError } from './errors.js';
import { fuse } from './fused-run.js';
import type { Interceptor } from './interceptor.js';
import type { Layer, Service, ServiceHandle } from './layer.js';
import { rankOf } from './layer-ranks.js';

function misconfigured(message: string): TrellisError {
  return new TrellisError(ErrorCode.InvalidConfig, message);
}

const bottomless: Service = () =>
  Promise.reject(
    misconfigured('The request reached the bottom of the stack: add a transport layer (see defaultStack()).'),
  );

/** A stack split below its `balance` layer (see {@link Stack.split}). */
export interface StackParts {
  /** The layers down to and including `balance`, built once per service. */
  readonly service: Stack;
  /** The layers below `balance`, built once per endpoint; `undefined` without a balance layer. */
  readonly endpoint: Stack | undefined;
}

/**
 * An ordered, immutable list of named layers, top (first to see a request) to bottom (the
 * transport). Every edit returns a new stack, so a shared default is never changed by accident.
 *
 * @example
 * ```ts
 * const stack = defaultStack().insertBefore('balance', myLayer).remove('retry');
 * ```
 */
export class Stack {
  readonly #layers: readonly Layer[];

  private constructor(layers: readonly Layer[]) {
    this.#layers = layers;
  }

  /**
   * A stack of the given layers, top first.
   *
   * @throws {@link TrellisError} `TRELLIS_INVALID_CONFIG` when two layers share a name.
   */
  static of(...layers: Layer[]): Stack {
    const seen = new Set<string>();
    for (const layer of layers) {
      if (!layer || typeof layer.name !== 'string' || typeof layer.wrap !== 'function') {
        throw misconfigured(
          'A layer must be an object with a string `name` and a `wrap(next, service)` function.',
        );
      }
      if (seen.has(layer.name))
        throw misconfigured(`Two layers are named '${layer.name}': layer names must be unique.`);
      seen.add(layer.name);
    }
    return new Stack(layers);
  }

  /** Layer names, top first. */
  get names(): string[] {
    return this.#layers.map((layer) => layer.name);
  }

  /** Whether a layer of this name is in the stack. */
  has(name: string): boolean {
    return this.#layers.some((layer) => layer.name === name);
  }

  /** The layer of this name, if present. */
  get(name: string): Layer | undefined {
    return this.#layers.find((layer) => layer.name === name);
  }

  #indexOf(name: string): number {
    const index = this.#layers.findIndex((layer) => layer.name === name);
    if (index < 0) {
      throw misconfigured(
        `The stack has no layer named '${name}'. Its layers are: ${this.names.join(', ')}.`,
      );
    }
    return index;
  }

  #splice(index: number, deleteCount: number, ...added: Layer[]): Stack {
    const layers = [...this.#layers];
    layers.splice(index, deleteCount, ...added);
    return Stack.of(...layers);
  }

  /** A stack with `layer` placed directly above the layer named `target`. */
  insertBefore(target: string, layer: Layer): Stack {
    return this.#splice(this.#indexOf(target), 0, layer);
  }

  /** A stack with `layer` placed directly below the layer named `target`. */
  insertAfter(target: string, layer: Layer): Stack {
    return this.#splice(this.#indexOf(target) + 1, 0, layer);
  }

  /** A stack where the layer with `layer.name` is replaced by `layer`, in the same position. */
  replace(layer: Layer): Stack {
    return this.#splice(this.#indexOf(layer.name), 1, layer);
  }

  /**
   * A stack with `layer` in its place: replacing the layer of the same name, or else inserted at
   * its role's canonical rank (see {@link LAYER_ORDER}), above the first layer of a later role.
   *
   * @throws {@link TrellisError} `TRELLIS_INVALID_CONFIG` for a new layer whose role has no rank:
   *   place it by name with `insertBefore` / `insertAfter`.
   */
  place(layer: Layer): Stack {
    if (this.has(layer.name)) return this.replace(layer);
    const role = layer.role ?? layer.name;
    const rank = rankOf(role);
    if (rank === undefined) {
      throw misconfigured(
        `The stack has no layer named '${layer.name}'. Its layers are: ${this.names.join(', ')}. ` +
          `Role '${role}' has no canonical place either: add the layer with stack.insertBefore(...) ` +
          'or insertAfter(...), or give it a known role.',
      );
    }
    const index = this.#layers.findIndex((other) => (rankOf(other.role ?? other.name) ?? -1) > rank);
    return this.#splice(index < 0 ? this.#layers.length : index, 0, layer);
  }

  /** A stack without the layer named `name`. */
  remove(name: string): Stack {
    return this.#splice(this.#indexOf(name), 1);
  }

  /** A stack with `layer` on top. */
  prepend(layer: Layer): Stack {
    return this.#splice(0, 0, layer);
  }

  /** A stack with `layer` at the bottom. */
  append(layer: Layer): Stack {
    return this.#splice(this.#layers.length, 0, layer);
  }

  /**
   * Splits the stack below its `balance` layer (the layer whose role, or name, is `balance`):
   * `service` is the part above and including it, built once per service; `endpoint` is the part
   * below it, built once per endpoint. Without a balance layer the whole stack is one part and
   * `endpoint` is `undefined` (the stack then picks endpoints itself, say by pinning one).
   */
  split(): StackParts {
    const index = this.#layers.findIndex((layer) => (layer.role ?? layer.name) === 'balance');
    if (index < 0) return { service: this, endpoint: undefined };
    return {
      service: new Stack(this.#layers.slice(0, index + 1)),
      endpoint: new Stack(this.#layers.slice(index + 1)),
    };
  }

  /**
   * Builds the service for one mesh service (or, for an endpoint stack, one endpoint): wraps
   * each layer around the one below it, the last one around `bottom`. Adjacent layers that have
   * an intercept form ({@link Layer.intercept}) are built into one step.
   *
   * @param service - what the layers may see of the service (or endpoint)
   * @param bottom - what the last layer calls; by default a service that refuses every request
   *   because the stack has no transport
   */
  build(service: ServiceHandle, bottom: Service = bottomless): Service {
    let next = bottom;
    // The run of adjacent intercepting layers being gathered (top first), and what it runs over.
    // A layer switched off (no interceptor, or a `wrap` that hands back `next` itself) adds no
    // step: the run goes on through it.
    let run: Interceptor[] = [];
    let runOver = bottom;
    for (let i = this.#layers.length - 1; i >= 0; i--) {
      const layer = this.#layers[i]!;
      if (layer.intercept !== undefined) {
        const interceptor = layer.intercept(next, service);
        if (interceptor !== undefined) {
          run = [interceptor, ...run];
          next = fuse(run, runOver);
        }
        continue;
      }
      const wrapped = layer.wrap(next, service);
      if (wrapped !== next) {
        run = [];
        runOver = wrapped;
      }
      next = wrapped;
    }
    return next;
  }
}
