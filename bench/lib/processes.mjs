// Child processes of a benchmark: upstream servers and one client process per measured run.
// Everything listens on 127.0.0.1, every wait is bounded, and every process is stopped by PID.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const UPSTREAM = new URL('./upstream.mjs', import.meta.url).pathname;
const CLIENT = new URL('./client.mjs', import.meta.url).pathname;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** The CPUs (a `taskset -c` list) each kind of process is held to, when pinned (see {@link pinProcesses}). */
const pinning = { client: undefined, upstream: undefined };

/**
 * Holds every process started from now on to its CPUs: `client` for the measured client and the
 * sidecar it sends through (a sidecar shares its application's machine), `upstream` for the
 * upstream servers. On a small machine the upstreams otherwise compete with the client for the
 * same cores, and the client's CPU per request then depends on how the scheduler interleaves
 * them (bench/README.md, "Pinned runs").
 */
export function pinProcesses({ client, upstream }) {
  pinning.client = client;
  pinning.upstream = upstream;
}

/** `spawn()`, under `taskset -c` when processes of this kind are pinned (taskset execs: same PID). */
export function spawnAs(kind, command, args, options) {
  const cpus = pinning[kind];
  if (cpus === undefined) return spawn(command, args, options);
  return spawn('taskset', ['-c', cpus, command, ...args], options);
}

/** CPU time (user + system, all threads) another process has used, in µs, from /proc. */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1e6;
}

/** Sends SIGTERM to a child by PID, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(child, graceMs = 2000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** The next IPC message of `type` (and, when given, about upstream `name`) from `child`. */
function once(child, type, timeoutMs, what, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no '${type}' message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (msg) => {
      if (msg?.type !== type || (name !== undefined && msg.name !== name)) return;
      cleanup();
      resolve(msg);
    };
    const onExit = (code) => {
      cleanup();
      reject(new Error(`${what} exited (code ${code}) before sending '${type}'`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Starts an upstream process (bench/lib/upstream.mjs) with a latency/error profile and waits until
 * it listens. The returned handle changes its profile, reads and resets its counters, reads its
 * CPU time, and stops it.
 */
export async function startUpstream(name, profile = {}) {
  const [upstream] = await startUpstreams([{ name, profile }], { shared: false });
  return upstream;
}

/**
 * Starts the named upstreams, each in a process of its own, or (`shared`) all in one process, each
 * on its own port: one process then answers them all in one event loop, so spreading requests over
 * them costs the upstream side no more than sending them all to one. The handles are those of
 * {@link startUpstream}. A shared process's CPU time is reported by its first upstream's handle
 * (the others report none), so a sum over the handles counts it once.
 */
export async function startUpstreams(specs, { shared = false } = {}) {
  if (!shared) return Promise.all(specs.map((spec) => startGroup([spec]).then(([u]) => u)));
  const upstreams = await startGroup(specs);
  for (const [i, upstream] of upstreams.entries()) upstream.setProfile(specs[i].profile ?? {});
  return upstreams;
}

async function startGroup(specs) {
  const names = specs.map((spec) => spec.name);
  const child = spawnAs(
    'upstream',
    process.execPath,
    [
      UPSTREAM,
      `--names=${names.join(',')}`,
      `--profile=${JSON.stringify(specs.length === 1 ? (specs[0].profile ?? {}) : {})}`,
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const { ports } = await once(child, 'ready', 10_000, `upstream ${names.join(',')}`);
  let stopping;
  return names.map((name, i) => ({
    name,
    pid: child.pid,
    port: ports[name],
    url: `http://127.0.0.1:${ports[name]}`,
    setProfile(next) {
      child.send({ type: 'profile', name, profile: next });
    },
    async stats() {
      const reply = once(child, 'stats', 5000, `upstream ${name}`, name);
      child.send({ type: 'stats', name });
      const { served, byStatus, connections } = await reply;
      return { served, byStatus, connections };
    },
    cpuMicros: () => (i === 0 ? cpuMicros(child.pid) : 0),
    stop: () => {
      stopping ??= stopProcess(child);
      return stopping;
    },
  }));
}

/**
 * Runs one client process (bench/lib/client.mjs) for one measured run and resolves with the JSON
 * line it prints. `spec` is handed to the process as it is (see client.mjs). `node` is the Node
 * binary to run it with (this process's by default). The process is killed if it overruns its own
 * time budget by `slackMs`.
 */
export function runClient(spec, { node = process.execPath, slackMs = 30_000 } = {}) {
  const budgetMs = (spec.warmupSeconds + spec.durationSeconds) * 1000 + slackMs;
  return new Promise((resolve, reject) => {
    const child = spawnAs('client', node, [CLIENT, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => {
      err += `\nkilled after ${budgetMs} ms`;
      stopProcess(child);
    }, budgetMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop();
      if (code === 0 && last?.startsWith('{')) resolve(JSON.parse(last));
      else
        reject(new Error(`client ${spec.client.id} exited with code ${code}: ${err.trim() || out.trim()}`));
    });
  });
}
