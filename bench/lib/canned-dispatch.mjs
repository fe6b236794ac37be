// Takes the network out of a benchmark process: undici's `Pool.prototype.dispatch` answers every
// request with the same canned response (headers, no body) on the next microtask, calling the
// handler as undici's Client does. Both the mesh (which sends with `dispatch` and its own
// handler) and a raw `pool.request()` (undici's request handler on `dispatch`) then run without
// opening a socket. For this process only; import it before the first request.
import { Pool } from 'undici';

const noop = () => {};
const RAW_HEADERS = [Buffer.from('content-length'), Buffer.from('0')];

/** Replaces `Pool.prototype.dispatch` with the canned answer. */
export function cannedDispatch() {
  Pool.prototype.dispatch = function answerCanned(_opts, handler) {
    handler.onConnect(noop);
    queueMicrotask(() => {
      handler.onHeaders(200, RAW_HEADERS, noop, 'OK');
      handler.onComplete([]);
    });
    return true;
  };
}
