import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** A test fixture server running in its own process on 127.0.0.1. */
export interface FixtureServer {
  readonly port: number;
  readonly address: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Absolute path of a file in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
}

/** Starts `node <script> ...args`, waits for its `listening <port>` line, and returns a handle that stops it by PID. */
export async function startFixture(script: string, args: string[] = []): Promise<FixtureServer> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /listening (\d+)/.exec(buffered);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)));
  }).finally(() => clearTimeout(timer));
  return {
    port,
    address: `127.0.0.1:${port}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

/** The outcome of running a Node script to completion in a child process. */
export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the script had to be killed because it did not exit within the bound. */
  timedOut: boolean;
}

/**
 * Runs `node <script> ...args` and waits for it to exit on its own; kills it (by PID) after
 * `boundMs`, which the result reports as `timedOut`.
 */
export async function runScript(script: string, args: string[], boundMs: number): Promise<ScriptResult> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(child.pid!, 'SIGKILL');
  }, boundMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr, timedOut };
}
