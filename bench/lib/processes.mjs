// Child processes of a benchmark: upstream servers and one client process per measured run.
// Everything listens on 127.0.0.1, every wait is bounded, and every process is stopped by PID.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const UPSTREAM = new URL('./upstream.mjs', import.meta.url).pathname;
const CLIENT = new URL('./client.mjs', import.meta.url).pathname;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

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

function once(child, type, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no '${type}' message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (msg) => {
      if (msg?.type !== type) return;
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
  const child = spawn(
    process.execPath,
    [UPSTREAM, `--name=${name}`, `--profile=${JSON.stringify(profile)}`],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const { port } = await once(child, 'ready', 10_000, `upstream ${name}`);
  return {
    name,
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    setProfile(next) {
      child.send({ type: 'profile', profile: next });
    },
    async stats() {
      const reply = once(child, 'stats', 5000, `upstream ${name}`);
      child.send({ type: 'stats' });
      const { served, byStatus, connections } = await reply;
      return { served, byStatus, connections };
    },
    cpuMicros: () => cpuMicros(child.pid),
    stop: () => stopProcess(child),
  };
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
    const child = spawn(node, [CLIENT, JSON.stringify(spec)], {
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
