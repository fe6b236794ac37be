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
import { staticEndpoints } from 'trellis/discovery';
import { setGlobalDispatcher } from 'undici';

/** The logical service name the benchmark meshes use (so URLs are `http://bench/...`). */
export const SERVICE = 'bench';

/**
 * A mesh with one service, `bench`, whose endpoints are the benchmark's targets, each with a pool
 * of `connections` sockets. `configure` receives the service builder after discovery and transport
 * are set, to choose a balancer or edit the stack.
 */
export function benchMesh(targets, connections, configure = (service) => service) {
  const endpoints = targets.map((url) => new URL(url).host);
  return Mesh.builder()
    .service(SERVICE, (service) =>
      configure(service.discovery(staticEndpoints(endpoints)).transport({ connections })),
    )
    .build();
}

/** Default stack (round robin, no retries) through `mesh.request()`, the fast path. */
export async function meshRequest({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency);
  return {
    async request() {
      const { statusCode, body } = await mesh.request({ service: SERVICE, path });
      await body.text();
      return statusCode;
    },
    close: () => mesh.close(),
  };
}

/** Default stack through `mesh.fetch()` (undici's fetch on the mesh dispatcher). */
export async function meshFetch({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency);
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

/** Default stack under Node's built-in `fetch`, via `setGlobalDispatcher(mesh.dispatcher())`. */
export async function meshGlobalDispatcher({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency);
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
