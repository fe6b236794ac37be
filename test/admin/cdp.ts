import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'undici';
import { childOutput } from '../support/child-output.js';
import { removeOnExit } from '../support/cleanup.js';
import { stopProcess } from '../support/stop-process.js';
import { trackedSpawn } from '../support/tracked-spawn.js';

/** A page in a real headless Chromium, driven over the Chrome DevTools Protocol. */
export interface BrowserPage {
  /** Evaluates `expression` in the page and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy (bounded by `ms`), returning its value. */
  waitFor<T>(expression: string, ms?: number): Promise<T>;
  close(): Promise<void>;
}

/** Starts headless Chromium (the system binary at `path`) on `url`. */
export async function openPage(path: string, url: string): Promise<BrowserPage> {
  const profile = mkdtempSync(join(tmpdir(), 'trellis-chromium-'));
  // Swept at the end of the run even when the suite fails before close().
  const browser = trackedSpawn(
    path,
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  removeOnExit(profile);
  const [, debugUrl] = await childOutput(
    browser,
    browser.stderr!,
    /DevTools listening on (ws:\/\/\S+)/,
    'chromium',
    20_000,
  );
  const http = debugUrl!.replace(/^ws:\/\/([^/]+)\/.*$/, 'http://$1');
  const target = (await (await fetch(`${http}/json/new?${encodeURI(url)}`, { method: 'PUT' })).json()) as {
    webSocketDebuggerUrl: string;
  };
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 1;
  const pending = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message);
  };
  const send = (method: string, params: object) =>
    new Promise<{ result?: unknown; error?: unknown }>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async <T>(expression: string): Promise<T> => {
    const reply = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (reply.error) throw new Error(`CDP: ${JSON.stringify(reply.error)}`);
    const result = reply.result as { result: { value: T }; exceptionDetails?: unknown };
    if (result.exceptionDetails) throw new Error(`page: ${JSON.stringify(result.exceptionDetails)}`);
    return result.result.value;
  };
  return {
    evaluate,
    async waitFor<T>(expression: string, ms = 10_000): Promise<T> {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await evaluate<T>(expression).catch(() => undefined);
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`page: ${expression} stayed falsy for ${ms} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      socket.close();
      await stopProcess(browser);
      // Chromium's helper processes may still write to the profile just after the browser exits.
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}
