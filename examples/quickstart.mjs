// trellis quickstart. Run it with `node examples/quickstart.mjs` (after `npm run build` in this
// repository, or anywhere after `npm install trellis`). It starts two stand-in upstreams on
// 127.0.0.1, sends requests to them through a mesh, and cleans up after itself.
import http from 'node:http';
import { ErrorCode, isTrellisError, Mesh } from 'trellis';
import { roundRobin } from 'trellis/balancers';
import { staticEndpoints } from 'trellis/discovery';
import { tlsFromFiles } from 'trellis/tls';

/** A stand-in for one instance of a real `users` service. */
function startUpstream(name) {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ instance: name, path: req.url, host: req.headers.host }));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, address: `127.0.0.1:${server.address().port}` }));
  });
}

const upstreams = await Promise.all([startUpstream('users-a'), startUpstream('users-b')]);

// TLS to the upstreams is one line: `.transport({ tls: tlsFromFiles({ ca: 'ca.pem' }) })`.
// Here it is only turned on when USERS_CA names a CA file, since the stand-ins speak plain HTTP.
const usersCa = process.env.USERS_CA;

// One service, `users`, whose endpoints come from a static list (DNS, etcd... in production).
// build() checks the whole configuration and lists every problem at once.
const mesh = Mesh.builder()
  .service('users', (s) =>
    s
      .discovery(staticEndpoints(upstreams.map((u) => u.address)))
      .balancer(roundRobin())
      .transport(usersCa ? { tls: tlsFromFiles({ ca: usersCa }) } : {}),
  )
  .build();
mesh.on('discoveryError', (service, err) => console.warn(`discovery for ${service}: ${err.message}`));

try {
  // The fast path: address the service by name; the body streams and must be read or dumped.
  for (let i = 0; i < 2; i++) {
    const { statusCode, body } = await mesh.request({ service: 'users', path: '/v1/users/42' });
    if (statusCode !== 200) throw new Error(`expected 200, got ${statusCode}`);
    console.log('mesh.request ->', await body.json());
  }

  // WHATWG fetch: `http://users/...` goes through the mesh; other hosts pass through untouched.
  const res = await mesh.fetch('http://users/v1/users/7', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`expected 200, got ${res.status}`);
  console.log('mesh.fetch   ->', await res.json());

  // Failures are TrellisErrors with stable codes and messages that say what to do.
  try {
    await mesh.request({ service: 'billing', path: '/' });
  } catch (err) {
    if (!isTrellisError(err, ErrorCode.UnknownService)) throw err;
    console.log(`${err.code}: ${err.message}`);
  }

  // What the balancer sees, per endpoint.
  console.log('snapshot     ->', mesh.snapshot('users'));
} finally {
  // close() lets requests in flight finish, closes every connection and stops discovery.
  await mesh.close();
  await Promise.all(upstreams.map((u) => new Promise((resolve) => u.server.close(resolve))));
}
