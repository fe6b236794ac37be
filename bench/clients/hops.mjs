// What one continuation hop costs on the request path, in situ: the default stack with N extra
// plain layers (a `wrap`, not an intercept form) that do nothing but `next(ctx).then(answered,
// failed)` on continuations bound once, above `balance`. They also split the stack's fused run in
// two, so N hops cost N + 1 steps. Paired against the default stack in one process:
//   node bench/ab.mjs --pin --upstreams=3 production.mjs#meshDefault hops.mjs#meshPlus4Hops hops.mjs#meshPlus8Hops
import { benchMesh, requestClient } from './mesh.mjs';

const answered = (response) => response;
const failed = (error) => {
  throw error;
};

/** A layer that only continues: one promise, one reaction, one microtask per request. */
function hop(i) {
  return {
    name: `hop-${i}`,
    wrap: (next) => (ctx) => next(ctx).then(answered, failed),
  };
}

function hopsClient({ targets, path, concurrency }, hops) {
  const mesh = benchMesh(targets, concurrency, (service) =>
    service.stack((stack) => {
      let edited = stack;
      for (let i = 0; i < hops; i++) edited = edited.insertBefore('balance', hop(i));
      return edited;
    }),
  );
  return requestClient(mesh, path);
}

/** The default stack with 4 extra hops. */
export async function meshPlus4Hops(setup) {
  return hopsClient(setup, 4);
}

/** The default stack with 8 extra hops. */
export async function meshPlus8Hops(setup) {
  return hopsClient(setup, 8);
}
