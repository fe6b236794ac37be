// Reference clients without trellis: raw undici and both fetch implementations. Each factory gets
// { targets, path, concurrency, options } and returns { request, close }; `request()` reads the
// body and resolves with the status code (see bench/lib/client.mjs).
import { BalancedPool, Client, Pool, fetch as undiciFetch } from 'undici';
import { bundledNodeFetch, bundledNodeFetchRotated } from './node-fetch.mjs';

/** Raw undici `Pool.request` to the first target: the in-process floor every ratio is measured against. */
export async function undiciPool({ targets, path, concurrency }) {
  const pool = new Pool(targets[0], { connections: concurrency });
  return {
    async request() {
      const { statusCode, body } = await pool.request({ method: 'GET', path });
      await body.text();
      return statusCode;
    },
    close: () => pool.close(),
  };
}

/**
 * One raw undici `Pool` per target, taken in turn per request: the floor of spreading load over
 * several endpoints, with no balancer logic and no load tracking at all.
 */
export async function undiciPoolRotated({ targets, path, concurrency }) {
  const pools = targets.map((target) => new Pool(target, { connections: concurrency }));
  let next = 0;
  return {
    async request() {
      const pool = pools[next];
      next = next + 1 === pools.length ? 0 : next + 1;
      const { statusCode, body } = await pool.request({ method: 'GET', path });
      await body.text();
      return statusCode;
    },
    close: () => Promise.all(pools.map((pool) => pool.close())),
  };
}

/**
 * undici `Client`s (one connection each) per target, kept on a stack: each request takes the one
 * handed back last, and hands it back once its body is read; targets taken in turn. No pool
 * logic, no cap, no queue: the floor of what the mesh's `ConnectionPool` does below its layers,
 * to tell the transport's gain over undici's `Pool` from the layers' cost (bench/RESULTS.md,
 * thirteenth session).
 */
export async function undiciClientsStacked({ targets, path }) {
  const stacks = targets.map((target) => ({ target, free: [], all: [] }));
  let next = 0;
  return {
    async request() {
      const stack = stacks[next];
      next = next + 1 === stacks.length ? 0 : next + 1;
      let client = stack.free.pop();
      if (client === undefined) {
        client = new Client(stack.target);
        stack.all.push(client);
      }
      const { statusCode, body } = await client.request({ method: 'GET', path });
      await body.text();
      stack.free.push(client);
      return statusCode;
    },
    close: () => Promise.all(stacks.flatMap((stack) => stack.all.map((client) => client.close()))),
  };
}

/** undici's `BalancedPool` over every target (undici's own round robin). */
export async function undiciBalancedPool({ targets, path, concurrency }) {
  const pool = new BalancedPool(targets, { connections: concurrency });
  return {
    async request() {
      const { statusCode, body } = await pool.request({ method: 'GET', path });
      await body.text();
      return statusCode;
    },
    close: () => pool.close(),
  };
}

/** The `fetch` of the undici package (its default global dispatcher). */
export async function undiciFetchClient({ targets, path }) {
  const url = `${targets[0]}${path}`;
  return {
    async request() {
      const response = await undiciFetch(url);
      await response.text();
      return response.status;
    },
    close: async () => {},
  };
}

/**
 * Node's built-in `fetch` in a process that has loaded the undici package: the same client as
 * node-fetch.mjs, but importing the package (as this module does) makes its Agent the global
 * dispatcher of Node's fetch as well (both read the same global symbol), so this is Node's fetch
 * on undici 7's Agent.
 */
export const nodeFetch = bundledNodeFetch;

/**
 * Node's built-in `fetch` (on undici 7's Agent, as `nodeFetch`) over every target in turn, one
 * URL per request: the like-for-like reference for the mesh's fetch front-ends, which spread
 * their requests over the same targets (on a 2-core machine, three busy upstreams cost any client
 * more per request than one: see the rotated raw pools).
 */
export const nodeFetchRotated = bundledNodeFetchRotated;
