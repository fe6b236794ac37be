// Shared shape of the "beyond round robin" scenarios: five upstreams, four of them alike and one
// misbehaving as the scenario says, against round robin, P2C least-loaded, P2C peak-EWMA and
// undici's BalancedPool. Concurrency 16 closed loop (the default 64 would mostly measure CPU
// contention on this 2-core machine).
import { clientModule } from '../lib/registry.mjs';

const mesh = new URL('./clients.mjs', import.meta.url).href;
const undici = clientModule('undici.mjs');

/** A balancer scenario whose fifth upstream, `odd`, has the given profile. */
export function balancerScenario({ name, title, odd, extraClients = [] }) {
  const normal = { latencyMs: 5 };
  return {
    name,
    title,
    baseline: 'mesh-rr',
    concurrency: 16,
    upstreams: [
      { name: 'a', profile: { ...normal, seed: 1 } },
      { name: 'b', profile: { ...normal, seed: 2 } },
      { name: 'c', profile: { ...normal, seed: 3 } },
      { name: 'd', profile: { ...normal, seed: 4 } },
      { name: 'odd', profile: { ...odd, seed: 5 } },
    ],
    clients: [
      {
        id: 'mesh-rr',
        label: 'round robin',
        module: mesh,
        factory: 'meshBalanced',
        options: { balancer: 'round-robin' },
      },
      {
        id: 'mesh-p2c-ll',
        label: 'P2C least-loaded',
        module: mesh,
        factory: 'meshBalanced',
        options: { balancer: 'p2c-least-loaded' },
      },
      {
        id: 'mesh-p2c-ewma',
        label: 'P2C peak-EWMA (default)',
        module: mesh,
        factory: 'meshBalanced',
        options: {},
      },
      {
        id: 'mesh-p2c-ewma-1s',
        label: 'P2C peak-EWMA, decay 1 s',
        module: mesh,
        factory: 'meshBalanced',
        options: { balancer: 'p2c-peak-ewma', decayMs: 1_000 },
      },
      ...extraClients.map((c) => ({ module: mesh, factory: 'meshBalanced', ...c })),
      { id: 'undici-balanced', label: 'undici BalancedPool', module: undici, factory: 'undiciBalancedPool' },
    ],
  };
}
