// Takes the network out of a benchmark process: undici's `Client.prototype.dispatch` (where
// undici's Pool and the mesh's connection pool both end) answers every request with the same
// canned response (headers, no body) on the next microtask, calling the handler as undici's
// Client does. Both the mesh (which sends with `dispatch` and its own handler) and a raw
// `pool.request()` (undici's request handler on `dispatch`) then run without opening a socket.
// For this process only; import it before the first request. `cannedBatchDispatch()` answers
// with a small body instead, in batches from one `setImmediate`, as a socket read delivers them.
import { Client } from 'undici';

const noop = () => {};
const RAW_HEADERS = [Buffer.from('content-length'), Buffer.from('0')];

/** Replaces `Client.prototype.dispatch` with the canned answer. */
export function cannedDispatch() {
  Client.prototype.dispatch = function answerCanned(_opts, handler) {
    handler.onConnect(noop);
    queueMicrotask(() => {
      handler.onHeaders(200, RAW_HEADERS, noop, 'OK');
      handler.onComplete([]);
    });
    return true;
  };
}

const BATCH_HEADERS = [
  Buffer.from('content-type'),
  Buffer.from('text/plain'),
  Buffer.from('content-length'),
  Buffer.from('32'),
];
const BODY = Buffer.alloc(32, 'x');
const NO_TRAILERS = [];
let pending = [];

function answerPending() {
  const handlers = pending;
  pending = [];
  for (const handler of handlers) {
    handler.onConnect(noop, undefined);
    handler.onHeaders(200, BATCH_HEADERS, noop, 'OK');
    handler.onData(BODY);
    handler.onComplete(NO_TRAILERS);
  }
}

/**
 * Replaces `Client.prototype.dispatch` with an answer of headers, a 32-byte body and completion,
 * given to every request dispatched since the last batch from one `setImmediate`: the event loop
 * turns, so the immediates and timers undici and the mesh schedule run as they would.
 */
export function cannedBatchDispatch() {
  Client.prototype.dispatch = function answerBatched(_opts, handler) {
    if (pending.push(handler) === 1) setImmediate(answerPending);
    return true;
  };
}
