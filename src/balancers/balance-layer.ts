import type { RequestContext } from '../core/context.js';
import type { EndpointView } from '../core/endpoint.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../core/layer.js';

/** The layer name of {@link balanceLayer}. */
export const BALANCE_LAYER = 'balance';

/** Why an attempt found no endpoint: the mesh closing under a retry, or discovery having none. */
function noEndpoint(service: ServiceHandle): TrellisError {
  if (service.closed === true) {
    // A retry or backup that comes due while the mesh closes: nothing more is sent.
    return new TrellisError(
      ErrorCode.MeshClosed,
      `The mesh was closed while a request to '${service.name}' waited to be sent again; ` +
        'it was not sent. Close the mesh only once its requests are done, or create a new one.',
      { details: { service: service.name } },
    );
  }
  return new TrellisError(
    ErrorCode.NoEndpoints,
    `Service '${service.name}' has no endpoints: its resolver has published none (yet). ` +
      'Check the discovery configuration, or listen to the mesh "discoveryError" event.',
    { details: { service: service.name } },
  );
}

/**
 * Picks an endpoint for each attempt with the service's balancer, counts the attempt in flight
 * on that endpoint, and tells the balancer how long the endpoint took to answer (time to
 * response headers) and whether the answer was a success (not a 5xx, not a transport error).
 */
export function balanceLayer(): Layer {
  return {
    name: BALANCE_LAYER,
    wrap(next: Service, service: ServiceHandle): Service {
      const balancer = service.balancer;
      const pick = (ctx: RequestContext): EndpointView | undefined => {
        let endpoint = balancer.pick(ctx);
        // A retry or backup asks for another endpoint than the last one: pick again a few times
        // (any balancer moves on or randomises), and keep the avoided one if nothing else comes up.
        const avoid = ctx.avoid;
        for (let tries = 0; endpoint === avoid && avoid !== undefined && tries < 3; tries++) {
          endpoint = balancer.pick(ctx) ?? endpoint;
        }
        ctx.endpoint = endpoint;
        return endpoint;
      };
      // Taken only when no endpoint is found: before discovery's first endpoints, wait for them.
      const pickOnceDiscovered = async (ctx: RequestContext): Promise<EndpointView> => {
        const waiting = service.waitForFirstEndpoints?.(ctx);
        if (waiting !== undefined) await waiting;
        const endpoint = waiting === undefined ? undefined : pick(ctx);
        if (endpoint === undefined) throw noEndpoint(service);
        return endpoint;
      };
      const observe = balancer.observe?.bind(balancer);
      if (observe === undefined) {
        // Nothing to learn from (round robin, for one): no clock reads, no outcome to classify.
        return async function balance(ctx: RequestContext): Promise<MeshResponse> {
          const endpoint = pick(ctx) ?? (await pickOnceDiscovered(ctx));
          endpoint.inflight++;
          try {
            return await next(ctx);
          } finally {
            endpoint.inflight--;
          }
        };
      }
      return async function balanceAndObserve(ctx: RequestContext): Promise<MeshResponse> {
        const endpoint = pick(ctx) ?? (await pickOnceDiscovered(ctx));
        endpoint.inflight++;
        const started = performance.now();
        try {
          const response = await next(ctx);
          observe(endpoint, performance.now() - started, response.statusCode < 500);
          return response;
        } catch (err) {
          observe(endpoint, performance.now() - started, false);
          throw err;
        } finally {
          endpoint.inflight--;
        }
      };
    },
  };
}
