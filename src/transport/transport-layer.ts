import type { Dispatcher } from 'undici';
import type { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import type { Layer, MeshResponse } from '../core/layer.js';
import { RelayBody } from './relay-body.js';
import { toTransportError } from './transport-errors.js';

/** The layer name of {@link transportLayer}. */
export const TRANSPORT_LAYER = 'transport';

function send(ctx: RequestContext): Promise<MeshResponse> {
  const endpoint = ctx.endpoint;
  if (endpoint === undefined) {
    return Promise.reject(
      new TrellisError(
        ErrorCode.InvalidConfig,
        `No endpoint was chosen for ${ctx.service}: the stack needs a balance layer above the transport.`,
      ),
    );
  }
  // undici's callback form with our own promise, rather than `await pool.request(ctx)` in an async
  // function: undici would wrap the callback in a promise anyway, so this saves one promise and
  // one microtask hop per request (measured: bench/RESULTS.md, issue 2). The context carries
  // undici's option names, so it is the request options object itself.
  if (ctx.relay) {
    return new Promise((resolve, reject) => {
      endpoint.pool.dispatch(
        ctx as unknown as Dispatcher.DispatchOptions,
        new RelayBody(ctx, resolve, reject) as unknown as Dispatcher.DispatchHandler,
      );
    });
  }
  return new Promise((resolve, reject) => {
    endpoint.pool.request(ctx as unknown as Dispatcher.RequestOptions, (err, data) => {
      if (err) reject(toTransportError(err, ctx));
      else resolve(data as MeshResponse);
    });
  });
}

/**
 * The bottom of every stack: sends the request over the chosen endpoint's keep-alive pool and
 * returns undici's streaming response, or, for the dispatcher front-end, a relayed body that
 * feeds the caller's own handler. Transport failures become `TrellisError`s.
 */
export function transportLayer(): Layer {
  return { name: TRANSPORT_LAYER, wrap: () => send };
}
