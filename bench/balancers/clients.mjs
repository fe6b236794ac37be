// trellis clients for the balancer scenarios (bench/scenarios/balancers-*.mjs). One factory,
// configured by the scenario's `options`:
//   balancer   'round-robin' | 'p2c-peak-ewma' | 'p2c-least-loaded' | 'random' (default: the mesh default)
//   health     false removes the health layer (outlier ejection), to show what it adds
//   decayMs    P2C peak-EWMA time constant (default 10 s)
// Everything else is the mesh default: no retries, so every failure reaches the caller.
import { p2cLeastLoaded, p2cPeakEwma, random, roundRobin } from 'trellis/balancers';
import { benchMesh, requestClient } from '../clients/mesh.mjs';

const balancers = {
  'round-robin': () => roundRobin(),
  'p2c-peak-ewma': (options) => p2cPeakEwma(options.decayMs ? { decayMs: options.decayMs } : {}),
  'p2c-least-loaded': () => p2cLeastLoaded(),
  random: () => random(),
};

/** `mesh.request()` with the balancer and health setting the scenario names. */
export async function meshBalanced({ targets, path, concurrency, options }) {
  const mesh = benchMesh(targets, options.connections ?? concurrency, (service) => {
    if (options.balancer) service.balancer(balancers[options.balancer](options));
    if (options.health === false) service.stack((stack) => stack.remove('health'));
    return service;
  });
  return requestClient(mesh, path);
}
