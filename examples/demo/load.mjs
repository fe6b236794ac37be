// A closed-loop load generator: `concurrency` workers, each sending the next request as soon as
// the previous one has finished, until `until` (a performance.now() time) passes.

/**
 * @param {import('trellis').Mesh} mesh
 * @param {{ service: string, concurrency: number, until: number }} options
 * @returns {Promise<{ ok: number, failed: number, errors: Map<string, number> }>}
 */
export async function runLoad(mesh, { service, concurrency, until }) {
  const result = { ok: 0, failed: 0, errors: new Map() };
  async function worker() {
    while (performance.now() < until) {
      try {
        const { statusCode, body } = await mesh.request({ service, path: '/' });
        await body.dump();
        if (statusCode < 500) result.ok++;
        else result.failed++;
      } catch (err) {
        result.failed++;
        const code = err.code ?? err.name;
        result.errors.set(code, (result.errors.get(code) ?? 0) + 1);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}
