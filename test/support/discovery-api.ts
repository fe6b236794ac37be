import { fileURLToPath } from 'node:url';
import { startListener } from './listener-process.js';

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
  const { port, stop } = await startListener(SCRIPT, []);
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
    stop,
  };
}
