// A closed-loop load generator: `concurrency` workers, each sending the next request as soon as
// the previous one has finished, until `until` (a performance.now() time) passes. Its counts
// are live, so the view can show the overall rate and success while it runs.

/** @typedef {{ ok: number, failed: number, errors: Map<string, number> }} LoadCounts */

/**
 * @param {import('trellis').Mesh} mesh
 * @param {{ service: string, concurrency: number, until: number }} options
 * @returns {{ counts: LoadCounts, done: Promise<void> }}
 */
export function startLoad(mesh, { service, concurrency, until }) {
  const counts = { ok: 0, failed: 0, errors: new Map() };
  async function worker() {
    while (performance.now() < until) {
      try {
        const { statusCode, body } = await mesh.request({ service, path: '/' });
        await body.dump();
        if (statusCode < 500) counts.ok++;
        else counts.failed++;
      } catch (err) {
        counts.failed++;
        const code = err.code ?? err.name;
        counts.errors.set(code, (counts.errors.get(code) ?? 0) + 1);
      }
    }
  }
  const done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => {});
  return { counts, done };
}
