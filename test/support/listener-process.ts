import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { forgetPid, killOnExit } from './cleanup.js';

/** A child process that printed `listening <port>` and can be stopped by PID. */
export interface ListenerProcess {
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Runs `node <script> ...args` and waits (at most 10 s) for it to print `listening <port>`. */
export async function startListener(script: string, args: string[]): Promise<ListenerProcess> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  killOnExit(child.pid);
  child.once('exit', () => forgetPid(child.pid));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)));
    });
    return {
      port,
      process: child,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        process.kill(child.pid!, 'SIGTERM');
        await exited;
      },
    };
  } finally {
    clearTimeout(timer);
  }
}
