import type { RequestContext } from './context.js';
import type { MeshResponse, Service } from './layer.js';

/**
 * Calls the service below a layer and returns its answer as a promise, even when that service
 * threw instead of rejecting (a user's layer may). Layers on the request path continue with
 * `callNext(next, ctx).then(answered, failed)`, their two continuations bound once (per layer,
 * per endpoint, or per pooled record): that costs no async frame and no closure per request,
 * where an `async` layer's `await` costs a frame, a promise and two closures on every call.
 */
export function callNext(next: Service, ctx: RequestContext): Promise<MeshResponse> {
  try {
    return next(ctx);
  } catch (err) {
    return Promise.reject(err);
  }
}
