// Takes the network out of a benchmark process: undici's `Client.prototype.dispatch` (where
// undici's Pool and the mesh's connection pool both end) answers every request with the same
// canned response (headers, no body) on the next microtask, calling the handler as undici's
// Client does. Both the mesh (which sends with `dispatch` and its own handler) and a raw
// `pool.request()` (undici's request handler on `dispatch`) then run without opening a socket.
// For this process only; import it before the first request.
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
