// Micro-benchmark: the CPU the mesh itself adds on the dispatcher path (Node's fetch on
// `mesh.dispatcher()`), without the network or fetch around it, so differences of a few hundred
// ns show through. The endpoint's undici Clients are swapped for a STAND-IN that answers every
// dispatch on the next turn (onConnect at once, then onHeaders, one onData and onComplete, as
// undici calls a handler), and a handler of each generation plays the caller:
//   - "raw": the stand-in's dispatch called directly, what a plain undici Pool costs around it;
//   - "mesh": the same request through MeshDispatcher, the bridge, the stack and the relay.
// The difference is the mesh's own cost. Confirm any change end to end with bench/ab.mjs.
// Run: npm run build && node bench/micro/dispatcher-path.mjs [--rounds=7] [--requests=100000]
//        [--mesh=path/to/a/copy/of/clients/mesh.mjs ...]
// Each --mesh adds a build of trellis to compare (a copy of clients/mesh.mjs importing it); all
// clients take turns in one process, so the builds' figures can be compared with each other.
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { turnOrder } from '../lib/turns.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    requests: { type: 'string', default: '100000' },
    mesh: { type: 'string', multiple: true },
  },
});
const meshModules = (values.mesh ?? []).map((file) => new URL(file, `file://${process.cwd()}/`).href);
if (meshModules.length === 0) meshModules.push(new URL('../clients/mesh.mjs', import.meta.url).href);
const ROUNDS = Number(values.rounds);
const N = Number(values.requests);
const IN_FLIGHT = 64;
const RAW_HEADERS = [
  Buffer.from('content-type'),
  Buffer.from('text/plain'),
  Buffer.from('content-length'),
  Buffer.from('2'),
  Buffer.from('date'),
  Buffer.from('Mon, 23 Nov 2026 16:00:00 GMT'),
];
const BODY = Buffer.from('ok');

/** STAND-IN for an undici Pool: answers each dispatch on the next turn, in batches. */
class AnsweringPool {
  #due = [];
  #scheduled = false;
  #answer = () => {
    const due = this.#due;
    this.#due = [];
    this.#scheduled = false;
    for (const handler of due) {
      handler.onHeaders(200, RAW_HEADERS, noop, 'OK');
      handler.onData(BODY);
      handler.onComplete([]);
    }
  };

  dispatch(_options, handler) {
    handler.onConnect(noop);
    this.#due.push(handler);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#answer);
    }
    return true;
  }
}

function noop() {}

/** Plays Node 20's fetch: an old-generation handler that settles a request on onComplete. */
class LegacyHandler {
  constructor(done) {
    this.done = done;
  }
  onConnect(abort) {
    this.abort = abort;
  }
  onHeaders(statusCode) {
    this.statusCode = statusCode;
    return true;
  }
  onData() {
    return true;
  }
  onComplete() {
    this.done(this.statusCode);
  }
  onError(err) {
    throw err;
  }
}

/** Runs N requests, IN_FLIGHT at a time, each dispatched with `dispatch(handler)`; CPU ns each. */
function run(dispatch) {
  return new Promise((resolve) => {
    let started = 0;
    let finished = 0;
    const start = process.cpuUsage();
    const next = (statusCode) => {
      if (statusCode !== undefined) {
        if (statusCode !== 200) throw new Error(`status ${statusCode}`);
        finished++;
      }
      if (finished === N) {
        const used = process.cpuUsage(start);
        resolve(((used.user + used.system) * 1000) / N);
      } else if (started < N) {
        started++;
        dispatch(new LegacyHandler(next));
      }
    };
    for (let i = 0; i < IN_FLIGHT; i++) next(undefined);
  });
}

const pool = new AnsweringPool();
// Every undici Client in this process (the mesh's endpoints' connections) answers through the stand-in.
Client.prototype.dispatch = function standInDispatch(opts, handler) {
  return pool.dispatch(opts, handler);
};
const options = { origin: 'http://bench', path: '/', method: 'GET', headers: [] };
const clients = { 'stand-in pool, raw dispatch': (handler) => pool.dispatch(options, handler) };
const meshes = [];
for (const [i, module] of meshModules.entries()) {
  const { benchMesh, coreService } = await import(module);
  const mesh = benchMesh(['http://127.0.0.1:1'], IN_FLIGHT, coreService);
  const dispatcher = mesh.dispatcher();
  const name =
    meshModules.length === 1 ? 'through mesh.dispatcher()' : `mesh.dispatcher() of ${values.mesh[i]}`;
  clients[name] = (handler) => dispatcher.dispatch(options, handler);
  meshes.push(mesh);
}

const names = Object.keys(clients);
const results = Object.fromEntries(names.map((name) => [name, []]));
for (const name of names) await run(clients[name]); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  const order = turnOrder(names, r);
  for (const name of order) results[name].push(await run(clients[name]));
}
await Promise.all(meshes.map((mesh) => mesh.close()));

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const raw = results[names[0]];
console.log(`Node ${process.version}; ${ROUNDS} rounds x ${N} requests, ${IN_FLIGHT} in flight`);
console.log('| client | ns/request median | added ns (paired median) |');
console.log('|---|---|---|');
for (const name of names) {
  const added = name === names[0] ? '–' : `+${median(results[name].map((ns, i) => ns - raw[i])).toFixed(0)}`;
  console.log(`| ${name} | ${median(results[name]).toFixed(0)} | ${added} |`);
}
