// trellis clients, built from dist/ (run `npm run build` first; `npm run bench` does). One mesh
// service, `bench`, with static discovery of every target. Other benchmarks build their own meshes
// with `benchMesh(targets, connections, configure)` and their own balancers or layers.
//
// The endpoint pools get as many connections as there are requests in flight, like the raw undici
// Pool they are compared with (`options.connections` overrides it). With the mesh default (128)
// undici opens up to 128 sockets for 64 closed-loop requests, because the next request is
// dispatched before the connection that served the previous one is marked free; that measures
// pool sizing, not the mesh.

import { Mesh } from 'trellis';
import { roundRobin } from 'trellis/balancers';
import { staticEndpoints } from 'trellis/discovery';
import { setGlobalDispatcher } from 'undici';

/** The logical service name the benchmark meshes use (so URLs are `http://bench/...`). */
export const SERVICE = 'bench';

/**
 * A mesh with one service, `bench`, whose endpoints are the benchmark's targets. `connections`,
 * when given, sizes each endpoint's pool (the mesh default otherwise); `configure` receives the
 * service builder after discovery is set, to choose a balancer or edit the stack.
 */
export function benchMesh(targets, connections = undefined, configure = (service) => service) {
  const endpoints = targets.map((url) => new URL(url).host);
  return Mesh.builder()
    .service(SERVICE, (service) => {
      service.discovery(staticEndpoints(endpoints));
      if (connections !== undefined) service.transport({ connections });
      return configure(service);
    })
    .build();
}

/**
 * Issue 2's path: static discovery, round robin, no retries. The default stack minus the layers
 * that came with later issues (retry, breaker, health, hedge), with round robin for P2C; the route,
 * tracing and deadline layers stay (they pass straight through a request without rules, SDK or
 * deadline). The whole default stack is measured by scenarios/full-stack.mjs.
 */
export function coreService(service) {
  return service
    .balancer(roundRobin())
    .stack((st) => st.remove('retry').remove('breaker').remove('health').remove('hedge'));
}

/** A client that sends `path` to the `bench` service with `mesh.request()` and reads each body. */
export function requestClient(mesh, path) {
  return {
    async request() {
      const { statusCode, body } = await mesh.request({ service: SERVICE, path });
      await body.text();
      return statusCode;
    },
    close: () => mesh.close(),
  };
}

/** Issue 2's path ({@link coreService}) through `mesh.request()`, the fast path. */
export async function meshRequest({ targets, path, concurrency, options }) {
  return requestClient(benchMesh(targets, options.connections ?? concurrency, coreService), path);
}

/** Issue 2's path through `mesh.fetch()` (undici's fetch on the mesh dispatcher). */
export async function meshFetch({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency, coreService);
  const url = `http://${SERVICE}${path}`;
  return {
    async request() {
      const response = await mesh.fetch(url);
      await response.text();
      return response.status;
    },
    close: () => mesh.close(),
  };
}

/** Issue 2's path under Node's built-in `fetch`, via `setGlobalDispatcher(mesh.dispatcher())`. */
export async function meshGlobalDispatcher({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency, coreService);
  setGlobalDispatcher(mesh.dispatcher());
  const url = `http://${SERVICE}${path}`;
  return {
    async request() {
      const response = await globalThis.fetch(url);
      await response.text();
      return response.status;
    },
    close: () => mesh.close(),
  };
}

/**
 * The global-dispatcher path without changing the process's global dispatcher: Node's built-in
 * `fetch` given `mesh.dispatcher()` as its `dispatcher` option, so `bench/ab.mjs` can pair it with
 * Node's own fetch in one process.
 */
export async function meshDispatcherOption({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency, coreService);
  const init = { dispatcher: mesh.dispatcher() };
  const url = `http://${SERVICE}${path}`;
  return {
    async request() {
      const response = await globalThis.fetch(url, init);
      await response.text();
      return response.status;
    },
    close: () => mesh.close(),
  };
}
