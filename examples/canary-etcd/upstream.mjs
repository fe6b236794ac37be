// One version of the `users` service for the example: `node upstream.mjs <version>`.
// Answers every request with its version; prints `listening <port>` once ready.
import http from 'node:http';

const version = process.argv[2] ?? 'v1';
const server = http.createServer((req, res) => {
  res.setHeader('x-version', version);
  res.end(JSON.stringify({ version, path: req.url }));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
