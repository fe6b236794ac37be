// The haproxy sidecar of the `production` scenario: a real haproxy process (Debian package
// `haproxy`) forwarding 127.0.0.1:<port> round robin to the scenario's three upstreams, with the
// configuration in bench/haproxy/haproxy.cfg. A raw undici Pool sending through it is what a
// service behind a forwarding sidecar pays; its own CPU is the sidecar's share.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.mjs';
import { cpuMicros, spawnAs, stopProcess } from './processes.mjs';

const CONFIG = new URL('../haproxy/haproxy.cfg', import.meta.url).pathname;
const BINARY = process.env.HAPROXY_BIN ?? 'haproxy';
const UPSTREAMS = 3; // the config names exactly three servers

/** Why the sidecar cannot run here (a sentence naming the binary and how to install it), or undefined. */
export function haproxyUnavailable() {
  const probe = spawnSync(BINARY, ['-v'], { encoding: 'utf8', timeout: 5000 });
  if (probe.error || probe.status !== 0) {
    return `'${BINARY}' not found: install it (Debian: apt-get install haproxy) or set HAPROXY_BIN`;
  }
  return undefined;
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts haproxy in the foreground in front of `upstreams` (handles from startUpstream) and waits
 * (at most `timeoutMs`) until it accepts connections. The handle has the shape of an upstream's:
 * name, pid, url, cpuMicros(), stop().
 */
export async function startHaproxy(name, upstreams, timeoutMs = 10_000) {
  if (upstreams.length !== UPSTREAMS) {
    throw new Error(
      `the haproxy sidecar forwards to exactly ${UPSTREAMS} upstreams, got ${upstreams.length}`,
    );
  }
  const port = await freePort();
  const env = { ...process.env, HAPROXY_BENCH_PORT: String(port) };
  for (const [i, u] of upstreams.entries()) env[`HAPROXY_BENCH_UPSTREAM_${i + 1}`] = `127.0.0.1:${u.port}`;
  const child = spawnAs('client', BINARY, ['-f', CONFIG, '-db'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let spawnError;
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.once('error', (err) => {
    spawnError = err;
  });
  const handle = {
    name,
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    cpuMicros: () => cpuMicros(child.pid),
    stop: () => stopProcess(child),
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) break;
    if (await accepts(port)) return handle;
    await sleep(50);
  }
  if (!spawnError) await handle.stop();
  throw new Error(
    `haproxy did not accept connections on 127.0.0.1:${port} within ${timeoutMs} ms: ` +
      `${spawnError?.message ?? stderr.trim()}`,
  );
}
