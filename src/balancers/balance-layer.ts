import type { RequestContext } from '../core/context.js';
import type { EndpointView } from '../core/endpoint.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import {
  callIntercepted,
  type Interception,
  type Interceptor,
  interceptingLayer,
} from '../core/interceptor.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../core/layer.js';
import { EndpointAttempts } from './endpoint-attempt.js';

/** The layer name of {@link balanceLayer}. */
export const BALANCE_LAYER = 'balance';

/** How many times to ask the balancer again before looking for another endpoint by hand. */
const REPICKS = 3;

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
 * The bottom of the service stack: picks an endpoint for each attempt with the service's
 * balancer (avoiding the one `ctx.avoid` names when another is active), hands the attempt to
 * that endpoint's stack (the layers below this one), and counts the attempt on that endpoint and
 * reports it to the balancer (`EndpointAttempts`).
 */
export function balanceLayer(): Layer {
  return interceptingLayer({
    name: BALANCE_LAYER,
    intercept(next: Service, service: ServiceHandle): Interceptor {
      const balancer = service.balancer;
      const pick = (ctx: RequestContext): EndpointView | undefined => {
        let endpoint = balancer.pick(ctx);
        if (endpoint === undefined) return undefined;
        if (endpoint === ctx.avoid) endpoint = another(ctx, endpoint);
        ctx.endpoint = endpoint;
        return endpoint;
      };
      /**
       * The one place "avoid this endpoint" is honoured, for every balancer: a retry or backup
       * asks for another endpoint than the last one. Pick again a few times (a balancer that
       * moves on or randomises finds one), then take the first other active endpoint (for
       * balancers whose choice is fixed: a hash, or P2C comparing the same two), and keep the
       * avoided one only when nothing else is active.
       */
      const another = (ctx: RequestContext, avoid: EndpointView): EndpointView => {
        for (let tries = 0; tries < REPICKS; tries++) {
          const endpoint = balancer.pick(ctx);
          if (endpoint !== undefined && endpoint !== avoid) return endpoint;
        }
        for (const endpoint of service.endpoints()) {
          if (endpoint !== avoid && endpoint.state === 'active') return endpoint;
        }
        return avoid;
      };
      const attempts = new EndpointAttempts(balancer);
      // Taken only when no endpoint is found: before discovery's first endpoints, wait for them.
      const sendOnceDiscovered = async (ctx: RequestContext): Promise<MeshResponse> => {
        const waiting = service.waitForFirstEndpoints(ctx);
        if (waiting !== undefined) await waiting;
        const endpoint = waiting === undefined ? undefined : pick(ctx);
        if (endpoint === undefined) throw noEndpoint(service);
        return callIntercepted(next, ctx, attempts.start(endpoint));
      };
      // A balancer that throws from pick() fails the call, as any other failure would (the
      // intercepting run turns the throw into a rejection).
      return function balance(ctx: RequestContext): Interception | Promise<MeshResponse> {
        const endpoint = pick(ctx);
        return endpoint === undefined ? sendOnceDiscovered(ctx) : attempts.start(endpoint);
      };
    },
  });
}
