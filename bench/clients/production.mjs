// trellis clients on the production request path of issue 15: the mesh's *default* stack (whatever
// it holds on the branch measured, P2C peak-EWMA by default) over every target, with the two things
// a production service adds: a timeout on every request and the Prometheus metrics layer.
// options (JSON from the scenario):
//   timeoutMs  the `timeout` of every mesh.request(); for the fetch front-ends, which have no such
//              option, the service's default timeout (`deadlines({ timeoutMs })`) instead
//   metrics    true prepends `metrics({ registry })`, as the stack's documentation says to
import { Registry } from 'prom-client';
import { deadlines } from 'trellis/resilience';
import { metrics } from 'trellis/telemetry';
import { setGlobalDispatcher } from 'undici';
import { benchMesh, SERVICE } from './mesh.mjs';

/** The per-request timeout of the production client, as in issue 15's table. */
export const PRODUCTION_TIMEOUT_MS = 2000;

/**
 * A mesh over every target with the default stack, plus the metrics layer when `withMetrics`, plus
 * a service default timeout when `serviceTimeoutMs` is given.
 */
export function productionMesh(targets, connections, { withMetrics = false, serviceTimeoutMs } = {}) {
  return benchMesh(targets, connections, (service) =>
    service.stack((stack) => {
      let edited = withMetrics ? stack.prepend(metrics({ registry: new Registry() })) : stack;
      if (serviceTimeoutMs !== undefined) edited = edited.replace(deadlines({ timeoutMs: serviceTimeoutMs }));
      return edited;
    }),
  );
}

/** `mesh.request()` on the default stack, with `options.timeoutMs` and `options.metrics`. */
export async function meshDefault({ targets, path, concurrency, options }) {
  const mesh = productionMesh(targets, concurrency, { withMetrics: options.metrics === true });
  // One options object for every request, as a service calling one route would hold it.
  const request =
    options.timeoutMs === undefined
      ? { service: SERVICE, path }
      : { service: SERVICE, path, timeout: options.timeoutMs };
  return {
    async request() {
      const { statusCode, body } = await mesh.request(request);
      await body.text();
      return statusCode;
    },
    close: () => mesh.close(),
  };
}

/**
 * The production client: default stack, a 2 s timeout on every request, metrics on. A named
 * factory so `bench/count.mjs` and profiles measure exactly the scenario's `mesh-production` row.
 */
export function meshProduction(setup) {
  return meshDefault({ ...setup, options: { timeoutMs: PRODUCTION_TIMEOUT_MS, metrics: true } });
}

function fetchMesh({ targets, concurrency, options }) {
  return productionMesh(targets, concurrency, {
    withMetrics: options.metrics === true,
    serviceTimeoutMs: options.timeoutMs,
  });
}

/** `mesh.fetch()` on the production stack (the timeout is the service's default). */
export async function meshProductionFetch(setup) {
  const mesh = fetchMesh(setup);
  const url = `http://${SERVICE}${setup.path}`;
  return {
    async request() {
      const response = await mesh.fetch(url);
      await response.text();
      return response.status;
    },
    close: () => mesh.close(),
  };
}

/** Node's built-in `fetch` after `setGlobalDispatcher(mesh.dispatcher())`, on the production stack. */
export async function meshProductionGlobal(setup) {
  const mesh = fetchMesh(setup);
  setGlobalDispatcher(mesh.dispatcher());
  const url = `http://${SERVICE}${setup.path}`;
  return {
    async request() {
      const response = await globalThis.fetch(url);
      await response.text();
      return response.status;
    },
    close: () => mesh.close(),
  };
}
