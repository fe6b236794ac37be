import { RequestContext } from '../../src/core/context.js';
import type { EndpointView } from '../../src/core/endpoint.js';
import { parseEndpoint } from '../../src/discovery/endpoint.js';
import { MeshEndpoint } from '../../src/service/mesh-endpoint.js';

/**
 * Real MeshEndpoint objects for algorithm tests. Their connection pools are created lazily and
 * these tests never send anything, so no socket is opened.
 */
export function endpoints(
  count: number,
  describe: (i: number) => { weight?: number; zone?: string } = () => ({}),
) {
  return Array.from({ length: count }, (_, i) => {
    const { weight, zone } = describe(i);
    return new MeshEndpoint(parseEndpoint({ host: '10.0.0.1', port: 1000 + i, weight, zone }), {});
  });
}

/** A request context for picks. */
export function request(headers?: Record<string, string>): RequestContext {
  return new RequestContext({ service: 'svc', path: '/', headers });
}

/** Counts picks per endpoint id. */
export function tally(pickOne: () => EndpointView | undefined, picks: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const id = pickOne()?.id ?? 'none';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
