import type { RequestContext } from './context.js';
import type { MeshResponse, Service } from './layer.js';

/**
 * Calls the service below a layer and returns its answer as a promise, even when that service
 * threw instead of rejecting (a user's layer may). A layer that continues with `then` uses it
 * (`callNext(next, ctx).then(answered, failed)`), as does the step an intercepting run makes.
 */
export function callNext(next: Service, ctx: RequestContext): Promise<MeshResponse> {
  try {
    return next(ctx);
  } catch (err) {
    return Promise.reject(err);
  }
}
