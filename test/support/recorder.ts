import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startListener } from './listener-process.js';

const RECORDER = fileURLToPath(new URL('../fixtures/recorder.mjs', import.meta.url));

/** One request a recorder received. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A recording HTTP server process on 127.0.0.1 (fixtures/recorder.mjs). */
export interface Recorder {
  readonly address: string;
  /** What it has received so far (asked over HTTP, off the mesh). */
  recorded(): Promise<RecordedRequest[]>;
  /** Polls until `count` requests have arrived, for up to `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  stop(): Promise<void>;
}

/** Starts a recorder that answers every request (`answer`) or none (`hang`). */
export async function startRecorder(mode: 'answer' | 'hang'): Promise<Recorder> {
  const { port, stop } = await startListener(RECORDER, ['0', mode]);
  const recorded = async (): Promise<RecordedRequest[]> => {
    const { body } = await request(`http://127.0.0.1:${port}/__recorded`);
    return (await body.json()) as RecordedRequest[];
  };
  return {
    address: `127.0.0.1:${port}`,
    recorded,
    async waitFor(count, timeoutMs = 5000) {
      const until = performance.now() + timeoutMs;
      for (;;) {
        const seen = await recorded();
        if (seen.length >= count || performance.now() > until) return seen;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop,
  };
}
