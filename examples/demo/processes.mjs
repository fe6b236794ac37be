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
 * Starts one upstream process for a profile and resolves once it listens.
 * @param {import('./profiles.mjs').UpstreamProfile} profile
 * @returns {Promise<{ profile: import('./profiles.mjs').UpstreamProfile, address: string, pid: number }>}
 */
export async function startUpstream(profile) {
  const child = spawn(process.execPath, [UPSTREAM, JSON.stringify(profile)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    const port = await new Promise((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk) => {
        buffered += chunk;
        const match = /listening (\d+)/.exec(buffered);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) =>
        reject(new Error(`upstream ${profile.name} exited (${code}) before listening`)),
      );
    });
    return { profile, address: `127.0.0.1:${port}`, pid: child.pid };
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
