import type { RequestContext } from './context.js';
import { fuse } from './fused-run.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from './layer.js';

/**
 * What an intercepting layer is told of one call's outcome: the continuations a `then` on the
 * layers below would run, called instead by the run the layer is fused into (see
 * {@link Layer.intercept}). Each works as a `then` callback does: return the response to pass it
 * up (or another one), throw to fail the call, or return a promise when what comes next must
 * wait (a retry).
 */
export interface Interception {
  /** The layers below answered. */
  answered(response: MeshResponse): MeshResponse | Promise<MeshResponse>;
  /** The layers below failed (rejected, or threw). */
  failed(error: unknown): MeshResponse | Promise<MeshResponse>;
}

/**
 * One intercepting layer's per-call work before the layers below run, for one call:
 * - an {@link Interception}, to be told the call's outcome;
 * - `undefined`, to let the call pass through untouched;
 * - a promise: the layer settled the call itself (refused it, or took a path of its own that
 *   calls the `next` its `intercept` was given); the layers above it still see the outcome.
 *
 * It may throw: the call then fails with that error, as if the layer had rejected.
 */
export type Interceptor = (ctx: RequestContext) => Interception | Promise<MeshResponse> | undefined;

/** A layer given as its {@link Layer.intercept} form (see {@link interceptingLayer}). */
export interface InterceptingLayerOptions {
  /** The layer's unique name in its stack. */
  readonly name: string;
  /** The layer's role (see {@link Layer.role}). */
  readonly role?: string;
  /** Problems with the layer's options (see {@link Layer.validate}). */
  validate?(): readonly string[];
  /**
   * Builds the layer's interceptor over `next`, or `undefined` when the layer is switched off
   * for this service (see {@link Layer.intercept}).
   */
  intercept(next: Service, service: ServiceHandle): Interceptor | undefined;
}

/**
 * A layer from its intercept form, with the `wrap` every layer has: wrapped on its own (as a test
 * does, with `layer.wrap(next, handle)`) it is one step of its own, and in a stack it shares one
 * with the intercepting layers next to it.
 *
 * @example
 * ```ts
 * // Counts answers by status code, at the cost of no promise of its own: one interception
 * // serves every call, since it needs nothing of the call.
 * function statusCounts(counts: Map<number, number>): Layer {
 *   const counting: Interception = {
 *     answered(response) {
 *       counts.set(response.statusCode, (counts.get(response.statusCode) ?? 0) + 1);
 *       return response;
 *     },
 *     failed(error) {
 *       throw error;
 *     },
 *   };
 *   return interceptingLayer({ name: 'status-counts', intercept: () => () => counting });
 * }
 * ```
 */
export function interceptingLayer(options: InterceptingLayerOptions): Layer {
  const { intercept } = options;
  const layer: { -readonly [K in keyof Layer]: Layer[K] } = {
    name: options.name,
    intercept,
    wrap(next, service) {
      const interceptor = intercept(next, service);
      return interceptor === undefined ? next : fuse([interceptor], next);
    },
  };
  if (options.role !== undefined) layer.role = options.role;
  if (options.validate !== undefined) layer.validate = options.validate.bind(options);
  return layer;
}

/**
 * Runs `next` with `interception` told the outcome, as a fused run would tell it: for a layer's
 * own slow path, which calls the rest of the stack itself once it lets a held-back call go (a
 * call that waited for a concurrency slot, or for discovery's first endpoints).
 */
export async function callIntercepted(
  next: Service,
  ctx: RequestContext,
  interception: Interception,
): Promise<MeshResponse> {
  let response: MeshResponse;
  try {
    response = await next(ctx);
  } catch (err) {
    return interception.failed(err);
  }
  return interception.answered(response);
}
