// Node's built-in `fetch` exactly as a process without the undici package has it: the undici
// bundled with Node and its own default dispatcher. This module must not import `undici`:
// loading the package makes its Agent the global dispatcher of Node's fetch too (both read the
// same global symbol), which is what `undici.mjs#nodeFetch` measures.

/** Node's built-in `fetch` with Node's bundled dispatcher. */
export async function bundledNodeFetch({ targets, path }) {
  const url = `${targets[0]}${path}`;
  return {
    async request() {
      const response = await globalThis.fetch(url);
      await response.text();
      return response.status;
    },
    close: async () => {},
  };
}
