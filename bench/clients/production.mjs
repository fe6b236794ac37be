// trellis clients on the production request path of issue 15: the mesh's *default* stack (whatever
// it holds on the branch measured, P2C peak-EWMA by default) over every target, with the two things
// a production service adds: a timeout on every request (2 s) and the Prometheus metrics layer
// (`metrics({ registry })` installed with `m.install`, as its documentation says). One named factory per
// row of scenarios/production.mjs, so `bench/count.mjs` can count each row's client.
import { Registry } from 'prom-client';
import { adaptiveThrottle, bulkhead, deadlines, rateLimit } from 'trellis/resilience';
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
      let edited = withMetrics ? metrics({ registry: new Registry() }).install(stack) : stack;
      if (serviceTimeoutMs !== undefined) edited = edited.replace(deadlines({ timeoutMs: serviceTimeoutMs }));
      return edited;
    }),
  );
}

function requestClient(
  { targets, path, concurrency },
  { timeoutMs, withMetrics = false, admission = false },
) {
  const mesh = admission
    ? admissionMesh(targets, concurrency)
    : productionMesh(targets, concurrency, { withMetrics });
  // A fresh options object per request, as callers write it (and as the raw Pool client does).
  const send =
    timeoutMs === undefined
      ? () => mesh.request({ service: SERVICE, path })
      : () => mesh.request({ service: SERVICE, path, timeout: timeoutMs });
  return {
    async request() {
      const { statusCode, body } = await send();
      await body.text();
      return statusCode;
    },
    close: () => mesh.close(),
  };
}

/** `mesh.request()` on the default stack as it is. */
export async function meshDefault(setup) {
  return requestClient(setup, {});
}

/** The default stack with `timeout` set on every request. */
export async function meshTimeout(setup) {
  return requestClient(setup, { timeoutMs: PRODUCTION_TIMEOUT_MS });
}

/** The default stack with the metrics layer. */
export async function meshMetrics(setup) {
  return requestClient(setup, { withMetrics: true });
}

/**
 * The production client: the default stack, `timeout` on every request, the metrics layer. The
 * scenario's `mesh-production` row, and the client to count (`bench/count.mjs`) and profile.
 */
export async function meshProduction(setup) {
  return requestClient(setup, { timeoutMs: PRODUCTION_TIMEOUT_MS, withMetrics: true });
}

/**
 * The production stack with the opt-in admission layers too: a rate limit far above the load, an
 * adaptive throttle and a bulkhead, each placed at its canonical rank by `s.layer()`. None of them
 * sheds a call here; the client measures what they cost on calls they let through.
 */
function admissionMesh(targets, connections) {
  return benchMesh(targets, connections, (service) =>
    service
      .layer(rateLimit({ ratePerSecond: 1e9, burst: 1e9 }))
      .layer(adaptiveThrottle())
      .layer(bulkhead({ maxInFlight: 10_000 }))
      .stack(metrics({ registry: new Registry() }).install),
  );
}

/** The production client with the admission layers ({@link admissionMesh}). */
export async function meshProductionAdmission(setup) {
  return requestClient(setup, { timeoutMs: PRODUCTION_TIMEOUT_MS, admission: true });
}

/** The production stack for the fetch front-ends, which have no per-request `timeout` option. */
function fetchMesh({ targets, concurrency }) {
  return productionMesh(targets, concurrency, { withMetrics: true, serviceTimeoutMs: PRODUCTION_TIMEOUT_MS });
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
