// Node's built-in `fetch` exactly as a process without the undici package has it: the undici
// bundled with Node and its own default dispatcher. This module must not import `undici`:
// loading the package makes its Agent the global dispatcher of Node's fetch too (both read the
// same global symbol), which is what `undici.mjs#nodeFetch` measures.

/** Node's built-in `fetch` with Node's bundled dispatcher, to the first target. */
export function bundledNodeFetch({ targets, path }) {
  return bundledNodeFetchRotated({ targets: targets.slice(0, 1), path });
}

/**
 * Node's built-in `fetch` with Node's bundled dispatcher over every target in turn, one URL per
 * request: Node's fetch as a service without the undici package has it, spread over the same
 * targets as the mesh's front-ends (the like-for-like "as shipped" reference).
 */
export async function bundledNodeFetchRotated({ targets, path }) {
  const urls = targets.map((target) => `${target}${path}`);
  let next = 0;
  return {
    async request() {
      const url = urls[next];
      next = next + 1 === urls.length ? 0 : next + 1;
      const response = await globalThis.fetch(url);
      await response.text();
      return response.status;
    },
    close: async () => {},
  };
}
