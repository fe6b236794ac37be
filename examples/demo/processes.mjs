// Starting and stopping the demo's upstream processes. Every process is tracked by PID and
// stopped by PID, including when the demo is interrupted.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const UPSTREAM = fileURLToPath(new URL('./upstream.mjs', import.meta.url));
const START_TIMEOUT_MS = 10_000;

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();

/**
 * @typedef {object} Upstream
 * @property {string} name
 * @property {string} address             `127.0.0.1:port`, the endpoint id the mesh shows
 * @property {(patch: object) => void} change  merges `patch` into the running process's profile
 * @property {() => Promise<void>} kill    SIGKILL, as a crash would; resolves once it has exited
 */

/**
 * Starts one upstream process and resolves once it listens.
 * @param {string} name
 * @param {import('./profiles.mjs').UpstreamProfile} profile
 * @returns {Promise<Upstream>}
 */
export async function startUpstream(name, profile) {
  const child = spawn(process.execPath, [UPSTREAM, JSON.stringify(profile)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  running.add(child);
  const exited = once(child, 'exit').finally(() => running.delete(child));
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    const port = await new Promise((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk) => {
        buffered += chunk;
        const match = /listening (\d+)/.exec(buffered);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`upstream ${name} exited (${code}) before listening`)));
    });
    return {
      name,
      address: `127.0.0.1:${port}`,
      change: (patch) => child.stdin.write(`${JSON.stringify(patch)}\n`),
      kill: async () => {
        process.kill(child.pid, 'SIGKILL');
        await exited;
      },
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every upstream still running (SIGTERM by PID) and waits until they have exited. */
export async function stopAll() {
  await Promise.all(
    [...running].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }),
  );
}
