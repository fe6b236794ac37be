// The demo's discovery source: a trellis Resolver whose endpoint set the story changes mid-run,
// as a file, DNS or etcd would when an instance is replaced. The mesh validates, debounces and
// applies each update; endpoints that leave are drained, new ones slow-start.

/**
 * @param {string[]} initial `host:port` of the first endpoints
 * @returns {{ resolver: import('trellis').Resolver, publish(addresses: string[]): void }}
 */
export function liveEndpoints(initial) {
  let current = [...initial];
  /** @type {import('trellis').ResolverSink | undefined} */
  let sink;
  return {
    resolver: {
      description: 'demo(live)',
      resolve(to) {
        sink = to;
        to.update(current);
        return { close: () => (sink = undefined) };
      },
    },
    publish(addresses) {
      current = [...addresses];
      sink?.update(current);
    },
  };
}
