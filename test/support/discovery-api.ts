import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../fixtures/discovery-api.mjs', import.meta.url));

/** The recorded-response API server (fixtures/discovery-api.mjs) in its own process. */
export interface DiscoveryApi {
  readonly url: string;
  /** POSTs a control command. */
  control(path: string, body?: unknown): Promise<string>;
  /** Requests the server has seen (control requests excluded) and how many watches are open. */
  log(): Promise<{ log: Array<{ method: string; url: string; token?: string }>; openWatches: number }>;
  stop(): Promise<void>;
}

export async function startDiscoveryApi(): Promise<DiscoveryApi> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /listening (\d+)/.exec(buffered);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`discovery-api exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async control(path, body = {}) {
      const res = await fetch(`${url}/_control/${path}`, { method: 'POST', body: JSON.stringify(body) });
      return res.text();
    },
    async log() {
      return (await fetch(`${url}/_control/log`)).json() as never;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}
