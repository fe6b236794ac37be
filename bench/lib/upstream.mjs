// A benchmark upstream, run as its own process by the harness (bench/lib/processes.mjs), which
// talks to it over the IPC channel. One process serves one named upstream (--name=a), or several,
// each on its own port (--names=a,b,c: see `--shared-upstreams` in bench/README.md):
//   child -> parent  { type: 'ready', ports: { name: port } }  once every server listens on 127.0.0.1
//   parent -> child  { type: 'profile', name, profile }        replace one upstream's behaviour
//   parent -> child  { type: 'stats', name }                   answer { type: 'stats', name, served,
//                                                               byStatus, connections } (counts since
//                                                               the previous 'stats'; connections =
//                                                               TCP connections accepted)
// Every request gets the same small body; only timing and status vary, as the profile says:
//   latencyMs   fixed delay before answering (0 = answer at once, no timer)
//   spikeRate   fraction of responses delayed by spikeMs more (e.g. 0.1 and 50)
//   errorRate   fraction of responses answered with errorStatus (503 by default), after the delay
//   bodyBytes   body size (32 by default)
//   seed        seed of the random choices, so a run is reproducible
// The process exits when the parent goes away, so it can never outlive a benchmark.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'upstream' },
    names: { type: 'string' },
    profile: { type: 'string', default: '{}' },
  },
});

/** mulberry32: a tiny seeded PRNG, enough for choosing which responses spike or fail. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One named upstream: its server, its behaviour and its counters. */
class Upstream {
  served = 0;
  byStatus = {};
  connections = 0;

  constructor(name, profile) {
    this.name = name;
    this.applyProfile(profile);
    this.server = http.createServer((req, res) => this.#handle(req, res));
    this.server.on('connection', () => {
      this.connections++;
    });
    this.server.keepAliveTimeout = 120_000;
    this.server.headersTimeout = 125_000;
    this.server.requestTimeout = 0;
    this.server.maxRequestsPerSocket = 0;
  }

  applyProfile(input) {
    this.profile = {
      latencyMs: 0,
      spikeRate: 0,
      spikeMs: 0,
      errorRate: 0,
      errorStatus: 503,
      bodyBytes: 32,
      seed: 1,
      ...input,
    };
    this.random = seeded(this.profile.seed);
    this.body = Buffer.alloc(this.profile.bodyBytes, 'x');
    this.headers = {
      'content-type': 'text/plain',
      'content-length': String(this.body.length),
      'x-upstream': this.name,
    };
  }

  /** The counts since the last call, which starts them again. */
  takeStats() {
    const stats = { served: this.served, byStatus: this.byStatus, connections: this.connections };
    this.served = 0;
    this.byStatus = {};
    this.connections = 0;
    return stats;
  }

  listen() {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => resolve(this.server.address().port)),
    );
  }

  #handle(req, res) {
    // Drain any request body before answering so keep-alive connections stay reusable.
    req.resume();
    const p = this.profile;
    const status = p.errorRate > 0 && this.random() < p.errorRate ? p.errorStatus : 200;
    const delay = p.latencyMs + (p.spikeRate > 0 && this.random() < p.spikeRate ? p.spikeMs : 0);
    if (delay > 0) setTimeout(() => this.#answer(res, status), delay);
    else this.#answer(res, status);
  }

  #answer(res, status) {
    this.served++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    res.writeHead(status, this.headers);
    res.end(this.body);
  }
}

const names = values.names ? values.names.split(',') : [values.name];
const profile = JSON.parse(values.profile);
const upstreams = new Map(names.map((name) => [name, new Upstream(name, profile)]));

process.on('message', (msg) => {
  const upstream = upstreams.get(msg.name);
  if (upstream === undefined) return;
  if (msg.type === 'profile') upstream.applyProfile(msg.profile);
  else if (msg.type === 'stats') process.send({ type: 'stats', name: msg.name, ...upstream.takeStats() });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

const ports = {};
for (const upstream of upstreams.values()) ports[upstream.name] = await upstream.listen();
process.send({ type: 'ready', ports });
