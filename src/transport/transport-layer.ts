import type { Dispatcher } from 'undici';
import type { RequestContext } from '../core/context.js';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { isEndpointHandle, type Layer, type MeshResponse } from '../core/layer.js';
import type { QueueableHandler } from './dispatch-queue.js';
import { EndpointSender } from './endpoint-sender.js';
import { RelayBody } from './relay-body.js';
import { invalidBodyError } from './request-body.js';
import { ResponseHandler } from './response-handler.js';
import { abortedError } from './transport-errors.js';

/** The layer name of {@link transportLayer}. */
export const TRANSPORT_LAYER = 'transport';

/**
 * undici's options for one attempt, built field by field: the context has fields of its own
 * that mean something else to undici (its `idempotent` says whether the request may be
 * repeated; undici's controls pipelining), and no signal is handed over, because the handler
 * cancels the request itself. One small object per attempt, the same cost as handing undici
 * the context.
 */
function dispatchOptions(ctx: RequestContext): Dispatcher.DispatchOptions {
  return {
    path: ctx.path,
    method: ctx.method,
    headers: ctx.headers as Dispatcher.DispatchOptions['headers'],
    body: ctx.body as Dispatcher.DispatchOptions['body'],
    headersTimeout: ctx.headersTimeout,
    bodyTimeout: ctx.bodyTimeout,
    reset: ctx.reset,
    blocking: ctx.blocking,
    expectContinue: ctx.expectContinue,
    typeOfService: ctx.typeOfService,
  };
}

function send(ctx: RequestContext, sender: EndpointSender | undefined): Promise<MeshResponse> {
  const endpoint = ctx.endpoint;
  if (endpoint === undefined) {
    return Promise.reject(
      new TrellisError(
        ErrorCode.InvalidConfig,
        `No endpoint was chosen for ${ctx.service}: the stack needs a balance layer above the transport.`,
      ),
    );
  }
  const refused = invalidBodyError(ctx.body, `${ctx.method} ${ctx.service}${ctx.path}`);
  if (refused !== undefined) return Promise.reject(refused);
  const signal = ctx.signal;
  if (signal?.aborted === true) return Promise.reject(abortedError(signal.reason, ctx, false));
  // undici's dispatch with the mesh's own handler and promise: no promise of undici's around it,
  // and the handler settles the promise the moment the request is cancelled, queued or not.
  return new Promise((resolve, reject) => {
    const handler: QueueableHandler = ctx.relay
      ? new RelayBody(ctx, resolve, reject)
      : new ResponseHandler(ctx, resolve, reject);
    if (sender !== undefined) sender.send(dispatchOptions(ctx), handler);
    else endpoint.pool.dispatch(dispatchOptions(ctx), handler as unknown as Dispatcher.DispatchHandler);
  });
}

/**
 * The bottom of every stack: sends the request over the chosen endpoint's keep-alive pool and
 * returns undici's streaming response, or, for the dispatcher front-end, a relayed body that
 * feeds the caller's own handler. Transport failures become `TrellisError`s; a cancelled request
 * fails at once, in whatever phase it is (see `ResponseHandler`).
 */
export function transportLayer(): Layer {
  return {
    name: TRANSPORT_LAYER,
    wrap(_next, handle) {
      // Above an endpoint stack's handle the chosen endpoint varies: send straight to its pool.
      if (!isEndpointHandle(handle)) return (ctx) => send(ctx, undefined);
      // Its handlers tell the endpoint how each body ended (ResponseHandler, RelayBody).
      handle.reportsBodyEnds();
      const sender = new EndpointSender(handle.endpoint);
      handle.onRemoved(() => sender.flush());
      return (ctx) => send(ctx, sender);
    },
  };
}
