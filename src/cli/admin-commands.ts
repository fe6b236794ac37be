import type { ServicesView } from '../admin/services-view.js';
import type { RequestCompletion } from '../telemetry/completion-feed.js';
import { formatStat, formatTapLine, formatTop } from './admin-format.js';
import { UsageError } from './usage.js';

/** The tap filters the CLI passes on (see `/tap`). */
export interface TapFlags {
  service?: string | undefined;
  path?: string | undefined;
  status?: string | undefined;
  'min-latency'?: string | undefined;
}

/** The admin endpoint's base URL, with a trailing slash, from what the user typed. */
export function adminBase(url: string): URL {
  let base: URL;
  try {
    base = new URL(/^https?:\/\//.test(url) ? url : `http://${url}`);
  } catch {
    throw new UsageError(`'${url}' is not an admin URL: give one such as http://127.0.0.1:9990/`);
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return base;
}

/**
 * Why the admin endpoint could not be reached, and what to do: fetch says only "fetch failed",
 * with the socket's error (ECONNREFUSED, ENOTFOUND...) in its cause.
 */
function unreachable(url: URL, err: unknown): Error {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new Error(
    `cannot reach the admin endpoint at ${url} (${why}). Is mesh.admin() running, and is this its ` +
      'address? It prints its url when it starts (admin.url).',
  );
}

async function services(base: URL): Promise<ServicesView> {
  const url = new URL('services', base);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw unreachable(url, err);
  }
  if (!res.ok) throw new Error(`${url} answered ${res.status}: is it a trellis admin endpoint?`);
  return (await res.json()) as ServicesView;
}

/** `trellis stat <admin-url>`: golden signals per service and route. */
export async function statCommand(url: string, print: (text: string) => void): Promise<void> {
  print(formatStat(await services(adminBase(url))));
}

/** `trellis top <admin-url>`: the endpoints table, redrawn every second until `stop`. */
export async function topCommand(
  url: string,
  print: (text: string) => void,
  stop: Promise<void>,
  clear: boolean,
): Promise<void> {
  const base = adminBase(url);
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  while (!stopped) {
    const frame = formatTop(await services(base));
    print(clear ? `\u001b[H\u001b[2J${frame}` : frame);
    await Promise.race([stop, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
}

/** `trellis tap <admin-url> [filters]`: finished calls as they happen, until `stop`. */
export async function tapCommand(
  url: string,
  flags: TapFlags,
  print: (text: string) => void,
  stop: Promise<void>,
): Promise<void> {
  const tap = new URL('tap', adminBase(url));
  for (const [flag, param] of [
    ['service', 'service'],
    ['path', 'path'],
    ['status', 'status'],
    ['min-latency', 'min_latency'],
  ] as const) {
    const value = flags[flag];
    if (value !== undefined) tap.searchParams.set(param, value);
  }
  const abort = new AbortController();
  void stop.then(() => abort.abort());
  let res: Response;
  try {
    res = await fetch(tap, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
  } catch (err) {
    if (abort.signal.aborted) return;
    throw unreachable(tap, err);
  }
  if (!res.ok || res.body === null)
    throw new Error(`${tap} answered ${res.status}: ${(await res.text()).trim()}`);
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        printEvent(buffered.slice(0, end), print);
        buffered = buffered.slice(end + 2);
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  }
}

function printEvent(block: string, print: (text: string) => void): void {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (data === '') return;
  if (event === 'skipped') {
    const { dropped, sampled } = JSON.parse(data) as { dropped: number; sampled: number };
    print(`... ${dropped} dropped (not reading fast enough), ${sampled} sampled out (busy)`);
  } else {
    print(formatTapLine(JSON.parse(data) as RequestCompletion));
  }
}
