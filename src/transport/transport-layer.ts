import type { Dispatcher } from 'undici';
import type { RequestContext } from '../context.js';
import { ErrorCode, TrellisError } from '../errors.js';
import type { Layer, MeshResponse } from '../stack/layer.js';
import { toTransportError } from './transport-errors.js';

/** The layer name of {@link transportLayer}. */
export const TRANSPORT_LAYER = 'transport';

async function send(ctx: RequestContext): Promise<MeshResponse> {
  const endpoint = ctx.endpoint;
  if (endpoint === undefined) {
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      `No endpoint was chosen for ${ctx.service}: the stack needs a balance layer above the transport.`,
    );
  }
  try {
    // The context carries undici's option names, so it is the request options object itself.
    return await endpoint.pool.request(ctx as unknown as Dispatcher.RequestOptions);
  } catch (err) {
    throw toTransportError(err, ctx);
  }
}

/**
 * The bottom of every stack: sends the request over the chosen endpoint's keep-alive pool and
 * returns undici's streaming response. Transport failures become `TrellisError`s.
 */
export function transportLayer(): Layer {
  return { name: TRANSPORT_LAYER, wrap: () => send };
}
