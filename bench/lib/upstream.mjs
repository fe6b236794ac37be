// A benchmark upstream, run as its own process by the harness (bench/lib/processes.mjs), which
// talks to it over the IPC channel:
//   child -> parent  { type: 'ready', port }          once listening on 127.0.0.1
//   parent -> child  { type: 'profile', profile }     replace the behaviour (see applyProfile)
//   parent -> child  { type: 'stats' }                 answer { type: 'stats', served, byStatus, connections }
//                                                      (counts since the previous 'stats';
//                                                      connections = TCP connections accepted)
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
  options: { name: { type: 'string', default: 'upstream' }, profile: { type: 'string', default: '{}' } },
});
const name = values.name;

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

let profile;
let random;
let body;
let headers;
function applyProfile(input) {
  profile = {
    latencyMs: 0,
    spikeRate: 0,
    spikeMs: 0,
    errorRate: 0,
    errorStatus: 503,
    bodyBytes: 32,
    seed: 1,
    ...input,
  };
  random = seeded(profile.seed);
  body = Buffer.alloc(profile.bodyBytes, 'x');
  headers = { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-upstream': name };
}
applyProfile(JSON.parse(values.profile));

let served = 0;
let byStatus = {};
let connections = 0;

function answer(res, status) {
  served++;
  byStatus[status] = (byStatus[status] ?? 0) + 1;
  res.writeHead(status, headers);
  res.end(body);
}

const server = http.createServer((req, res) => {
  // Drain any request body before answering so keep-alive connections stay reusable.
  req.resume();
  const p = profile;
  const status = p.errorRate > 0 && random() < p.errorRate ? p.errorStatus : 200;
  const delay = p.latencyMs + (p.spikeRate > 0 && random() < p.spikeRate ? p.spikeMs : 0);
  if (delay > 0) setTimeout(answer, delay, res, status);
  else answer(res, status);
});
server.on('connection', () => {
  connections++;
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

process.on('message', (msg) => {
  if (msg.type === 'profile') applyProfile(msg.profile);
  else if (msg.type === 'stats') {
    process.send({ type: 'stats', served, byStatus, connections });
    served = 0;
    byStatus = {};
    connections = 0;
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
