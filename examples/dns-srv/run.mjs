// DNS SRV discovery, end to end on this machine:
//   npm run build && node examples/dns-srv/run.mjs
// Starts two HTTP servers and a DNS server (Debian's dnsmasq, `apt-get install dnsmasq-base`) on
// 127.0.0.1, publishes `_http._tcp.api.example.test` SRV records pointing at the servers (weights
// 3 and 1), and sends requests through a mesh that discovers the service with `dnsSrv()`. Then it
// changes the records and shows the mesh following them on the TTL. Everything is stopped at the end.
// The SRV weights reach the endpoints (printed below). The default balancer (P2C with peak EWMA)
// ignores weights and follows latency: one request at a time against two equally fast servers, it
// keeps the one whose estimate is lower, so nearly every request would go to one server. This
// example asks for `weighted()` from trellis/balancers instead, which splits by the SRV weights
// (about 3:1 here; it picks at random, so the counts vary a little from run to run).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mesh } from 'trellis';
import { weighted } from 'trellis/balancers';
import { dnsSrv } from 'trellis/discovery';

const SRV_NAME = '_http._tcp.api.example.test';

async function httpServer(name) {
  const server = http.createServer((_req, res) => res.end(`hello from ${name}\n`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { name, port: server.address().port, close: () => server.close() };
}

async function freePort() {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  return port;
}

/** dnsmasq answering only for `.test`, with the SRV and A records given, TTL 1 s. */
async function dnsServer(dir, port, servers) {
  const lines = servers.flatMap((s) => [
    `srv-host=${SRV_NAME},${s.name}.example.test,${s.port},10,${s.weight}`,
    `host-record=${s.name}.example.test,127.0.0.1,1`,
  ]);
  const conf = join(dir, `records-${Date.now()}.conf`);
  await writeFile(conf, `${lines.join('\n')}\n`);
  const dns = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--local=/test/',
      '--local-ttl=1',
      '--cache-size=0',
      `--conf-file=${conf}`,
      '--pid-file=',
      '--user=root',
    ],
    { stdio: 'ignore' },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    stop: async () => {
      const exited = once(dns, 'exit');
      process.kill(dns.pid, 'SIGTERM');
      await exited;
    },
  };
}

const dir = await mkdtemp(join(tmpdir(), 'trellis-dns-example-'));
const [blue, green] = await Promise.all([httpServer('blue'), httpServer('green')]);
const dnsPort = await freePort();
let dns = await dnsServer(dir, dnsPort, [
  { ...blue, weight: 3 },
  { ...green, weight: 1 },
]);

const mesh = Mesh.builder()
  .service('api', (s) =>
    s
      .discovery(dnsSrv(SRV_NAME, { servers: [`127.0.0.1:${dnsPort}`], minTtlMs: 500, maxTtlMs: 5000 }))
      .balancer(weighted()),
  )
  .build();
mesh.on('endpoints', (service, endpoints) =>
  console.log(`[discovery] ${service}: ${endpoints.map((e) => `${e.id} (weight ${e.weight})`).join(', ')}`),
);
mesh.on('discoveryError', (service, err) => console.log(`[discovery] ${service}: ${err.message}`));

async function send(n) {
  const counts = {};
  for (let i = 0; i < n; i++) {
    const res = await mesh.request({ service: 'api', path: '/' });
    const text = (await res.body.text()).trim();
    counts[text] = (counts[text] ?? 0) + 1;
  }
  console.log(counts);
}

try {
  await new Promise((resolve) => setTimeout(resolve, 300));
  await send(40);
  console.log('-- the SRV records now list only green --');
  await dns.stop();
  dns = await dnsServer(dir, dnsPort, [{ ...green, weight: 1 }]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await send(4);
} finally {
  await mesh.close();
  await dns.stop();
  blue.close();
  green.close();
  await rm(dir, { recursive: true, force: true });
}
