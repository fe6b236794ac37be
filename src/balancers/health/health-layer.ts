import { ErrorCode, TrellisError } from '../../core/errors.js';
import { isUpstreamFailure, responseFlags } from '../../core/failure-flags.js';
import { type Interception, type Interceptor, interceptingLayer } from '../../core/interceptor.js';
import { isEndpointHandle, type Layer, type Service, type ServiceHandle } from '../../core/layer.js';
import { errorFlags } from '../../core/outcome.js';
import { invalidLayer } from '../../core/validate.js';
import { checkEndpoint } from './active-check.js';
import {
  type ActiveCheckOptions,
  checkHealthOptions,
  type HealthOptions,
  type ResolvedHealthOptions,
  resolveHealthOptions,
} from './health-options.js';
import { OutlierDetector } from './outlier-detector.js';

/** The layer name of {@link healthLayer}. */
export const HEALTH_LAYER = 'health';

/** How often ejections end and slow start advances. */
const TICK_MS = 250;

/**
 * Endpoint health, a layer of the endpoint stack (below `balance`, above `transport`): a copy is
 * built for each endpoint and sees each attempt sent to it. It ejects endpoints after consecutive failures (connection
 * errors, timeouts, 5xx), when their success rate is far below their peers', or when active
 * checks fail; ejection time doubles with each repeat, up to a maximum; returning and newly
 * discovered endpoints go through slow start; at most `maxEjectionPercent` of the endpoints are
 * ejected at once. Ejection shows as `state: 'ejected'` on the endpoint (a status set through
 * the endpoint's handle, which the service hands to its balancer), which every balancer honours
 * (with one shared panic rule), and as `endpointEjected` / `endpointReturned` mesh events.
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
  // One detector per service, shared by the copies of this layer in the service's endpoint stacks.
  const detectors = new WeakMap<ServiceHandle, OutlierDetector>();
  const detectorOf = (service: ServiceHandle): OutlierDetector => {
    let detector = detectors.get(service);
    if (detector === undefined) {
      detector = startDetector(service, resolved);
      detectors.set(service, detector);
    }
    return detector;
  };
  return interceptingLayer({
    name: HEALTH_LAYER,
    intercept(_next: Service, handle: ServiceHandle): Interceptor {
      if (!isEndpointHandle(handle)) {
        throw new TrellisError(
          ErrorCode.InvalidConfig,
          `The health layer of '${handle.name}' sits above 'balance': it judges each endpoint, so it ` +
            "belongs below 'balance' (where the default stack has it), in the endpoint stack.",
        );
      }
      const detector = detectorOf(handle.service);
      const state = detector.admit(handle);
      handle.onRemoved(() => detector.remove(handle));
      // An answer below 500 is judged when its body ends, where its outcome is final: a body
      // the endpoint cuts short or stalls is a failure of the endpoint. Transports that do not
      // report body ends are judged by their headers.
      const judgedAtBodyEnd = handle.onBodyEnd((failed) => {
        if (failed) detector.failure(handle, state);
        else detector.success(state);
      });
      // One interception per endpoint: the layer needs nothing of the call to judge its outcome.
      const judge: Interception = {
        answered(response) {
          if (isUpstreamFailure(responseFlags(response))) detector.failure(handle, state);
          else if (!judgedAtBodyEnd) detector.success(state);
          return response;
        },
        failed(err): never {
          // The caller giving up, a request the mesh refused as malformed (its own request body
          // stream failing among them), or the mesh's own limits blame no endpoint (`Local`).
          if (isUpstreamFailure(errorFlags(err))) detector.failure(handle, state);
          throw err;
        },
      };
      return function health(): Interception {
        return judge;
      };
    },
  });
}

/** The service's detector, with its ticker, active checks and discovery listener. */
function startDetector(service: ServiceHandle, resolved: ResolvedHealthOptions): OutlierDetector {
  const detector = new OutlierDetector(service, resolved);
  const onEndpoints = (name: string) => {
    if (name === service.name) detector.sync();
  };
  service.events.on('endpoints', onEndpoints);
  const timers = resolved.timers;
  const ticker = timers.setInterval(tick, TICK_MS, detector).unref();
  const check = resolved.activeCheck;
  const checker = check && timers.setInterval(checkAll, check.intervalMs, { detector, check }).unref();
  service.onClose(() => {
    timers.clear(ticker);
    if (checker) timers.clear(checker);
    service.events.off('endpoints', onEndpoints);
  });
  return detector;
}

function tick(detector: OutlierDetector): void {
  detector.tick();
}

/** One round of active checks: every endpoint that is not draining. */
function checkAll({
  detector,
  check,
}: {
  detector: OutlierDetector;
  check: Required<ActiveCheckOptions>;
}): void {
  for (const [endpoint, health] of detector.entries()) {
    if (endpoint.endpoint.state === 'draining') continue;
    void checkEndpoint(endpoint.endpoint, check).then((passed) => detector.checked(endpoint, health, passed));
  }
}
