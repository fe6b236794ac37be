import type { RequestContext } from '../../core/context.js';
import { ErrorCode, isTrellisError } from '../../core/errors.js';
import type { Layer, MeshResponse, Service, ServiceHandle } from '../../core/layer.js';
import { invalidLayer } from '../../core/validate.js';
import { checkEndpoint } from './active-check.js';
import { checkHealthOptions, type HealthOptions, resolveHealthOptions } from './health-options.js';
import { OutlierDetector } from './outlier-detector.js';

/** The layer name of {@link healthLayer}. */
export const HEALTH_LAYER = 'health';

/** How often ejections end and slow start advances. */
const TICK_MS = 250;

/**
 * Whether an error says something about the endpoint. The caller giving up, or a request the
 * mesh refused as malformed, does not.
 */
function blamesEndpoint(err: unknown): boolean {
  return !(isTrellisError(err, ErrorCode.Aborted) || isTrellisError(err, ErrorCode.InvalidRequest));
}

/**
 * Endpoint health, placed between `balance` and `transport` so that it sees each attempt on the
 * endpoint the balancer chose. It ejects endpoints after consecutive failures (connection
 * errors, timeouts, 5xx), when their success rate is far below their peers', or when active
 * checks fail; ejection time doubles with each repeat, up to a maximum; returning and newly
 * discovered endpoints go through slow start; at most `maxEjectionPercent` of the endpoints are
 * ejected at once. Ejection shows as `state: 'ejected'` on the endpoint, which every balancer
 * honours (with one shared panic rule), and as `endpointEjected` / `endpointReturned` mesh events.
 *
 * @example
 * ```ts
 * s.layer(healthLayer({ consecutiveFailures: 3, baseEjectionMs: 2_000, activeCheck: { path: '/healthz' } }));
 * ```
 *
 * Invalid options are listed by `build()` with the configuration's other problems.
 */
export function healthLayer(options: HealthOptions = {}): Layer {
  const problems = checkHealthOptions(options);
  if (problems.length > 0) return invalidLayer(HEALTH_LAYER, problems);
  const resolved = resolveHealthOptions(options);
  return {
    name: HEALTH_LAYER,
    wrap(next: Service, service: ServiceHandle): Service {
      const detector = new OutlierDetector(service, resolved);
      const onEndpoints = (name: string) => {
        if (name === service.name) detector.sync();
      };
      service.onEndpointAdded?.((endpoint) => detector.admit(endpoint));
      service.events.on('endpoints', onEndpoints);
      const ticker = setInterval(() => detector.tick(), TICK_MS).unref();
      const check = resolved.activeCheck;
      const checker =
        check &&
        setInterval(() => {
          for (const endpoint of service.endpoints()) {
            if (endpoint.state === 'draining') continue;
            void checkEndpoint(endpoint, check).then((passed) => detector.checked(endpoint, passed));
          }
        }, check.intervalMs).unref();
      service.onClose(() => {
        clearInterval(ticker);
        if (checker) clearInterval(checker);
        service.events.off('endpoints', onEndpoints);
      });
      return async function health(ctx: RequestContext): Promise<MeshResponse> {
        const endpoint = ctx.endpoint;
        if (endpoint === undefined) return next(ctx);
        let response: MeshResponse;
        try {
          response = await next(ctx);
        } catch (err) {
          if (blamesEndpoint(err)) detector.failure(endpoint);
          throw err;
        }
        if (response.statusCode >= 500) detector.failure(endpoint);
        else detector.success(endpoint);
        return response;
      };
    },
  };
}
