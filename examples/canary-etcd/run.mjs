// Canary rollout driven from etcd: a client mesh sends steady traffic to `users` while the
// `trellis` CLI shifts the split to `users-v2` in steps (1% -> 10% -> 50% -> 100%). Every step
// is one etcd write; the mesh watches the key and applies it within milliseconds, without a
// restart and without dropping a request. Needs `etcd` on the PATH (Debian: etcd-server) and a
// build (`npm run build`). Run: `node examples/canary-etcd/run.mjs`.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Mesh } from 'trellis';
import { staticEndpoints } from 'trellis/discovery';
import { etcdRules } from 'trellis/routing';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const CLI = here('../../dist/cli/main.js');
const children = [];

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Starts a process and resolves once it prints `listening <port>`. */
async function startUpstream(version) {
  const child = spawn(process.execPath, [here('upstream.mjs'), version], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const [chunk] = await once(child.stdout, 'data');
  return `127.0.0.1:${/listening (\d+)/.exec(String(chunk))[1]}`;
}

// etcd is started here rather than with bench/lib/etcd.mjs so that the example stays one file
// a reader can copy and run on its own.
async function startEtcd(dataDir) {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const child = spawn(
    'etcd',
    [
      '--name=example',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=example=http://127.0.0.1:${peer}`,
      '--log-level=error',
    ],
    { stdio: 'ignore' },
  );
  children.push(child);
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return url;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('etcd did not start; is etcd-server installed?');
}

/** What an operator types: `npx trellis split set users users=90 users-v2=10 --etcd <url>`. */
async function trellis(etcd, ...args) {
  console.log(`$ npx trellis ${args.join(' ')} --etcd ${etcd}`);
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args, '--etcd', etcd]);
  return stdout.trim();
}

const dataDir = mkdtempSync(join(tmpdir(), 'trellis-example-etcd-'));
try {
  const [etcd, v1, v2] = await Promise.all([startEtcd(dataDir), startUpstream('v1'), startUpstream('v2')]);
  console.log(`etcd for this run: ${etcd} (random port, removed at the end)\n`);
  const rules = etcdRules({ endpoints: [etcd] });
  rules.on('rejected', (err) => console.error(err.message));
  const mesh = Mesh.builder()
    .rules(rules)
    .service('users', (s) => s.discovery(staticEndpoints([v1])))
    .service('users-v2', (s) => s.discovery(staticEndpoints([v2])))
    .build();
  await rules.loaded();

  // Steady traffic: 16 requests in flight, counted by the version that answered.
  const counts = { v1: 0, v2: 0, failed: 0 };
  let running = true;
  const worker = async () => {
    while (running) {
      try {
        const { headers, body } = await mesh.request({ service: 'users', path: '/v1/users/42' });
        await body.dump();
        counts[headers['x-version']]++;
      } catch {
        counts.failed++;
      }
    }
  };
  const workers = Array.from({ length: 16 }, worker);

  for (const percent of [0, 1, 10, 50, 100]) {
    if (percent > 0)
      await trellis(etcd, 'split', 'set', 'users', `users=${100 - percent}`, `users-v2=${percent}`);
    await new Promise((r) => setTimeout(r, 100)); // the write reaches the mesh in milliseconds
    Object.assign(counts, { v1: 0, v2: 0, failed: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    const total = counts.v1 + counts.v2;
    console.log(
      `split ${String(100 - percent).padStart(3)}/${String(percent).padEnd(3)} -> ` +
        `${total} requests in 1 s, ${((100 * counts.v2) / total).toFixed(1)}% answered by v2, ${counts.failed} failed`,
    );
  }
  running = false;
  await Promise.all(workers);
  console.log('');
  console.log(await trellis(etcd, 'split', 'show', 'users'));
  await mesh.close();
} finally {
  for (const child of children) if (child.exitCode === null) process.kill(child.pid, 'SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
  rmSync(dataDir, { recursive: true, force: true });
}
