// One demo upstream, run as its own process: `node upstream.mjs '<profile JSON>'`.
// Answers every request after the profile's latency (plus jitter), failing the profile's share
// of them with 503. Each line on stdin is a JSON object merged into the profile, so the demo can
// slow it down mid-run. Prints `listening <port>` once ready; exits on SIGTERM or when its
// parent dies.
import http from 'node:http';

const profile = JSON.parse(process.argv[2]);

const server = http.createServer((req, res) => {
  req.resume();
  const delay = profile.latencyMs + Math.random() * profile.jitterMs;
  setTimeout(() => {
    res.statusCode = Math.random() < profile.errorRate ? 503 : 200;
    res.setHeader('content-type', 'text/plain');
    res.end(`${res.statusCode}\n`);
  }, delay);
});

server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
    Object.assign(profile, JSON.parse(pending.slice(0, end)));
    pending = pending.slice(end + 1);
  }
});
// The parent holds our stdin open; when it goes away (even killed), so do we.
process.stdin.on('end', () => process.exit(0));
