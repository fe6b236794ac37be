import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { type ListenerProcess, startListener } from './listener-process.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/resilience-upstream.mjs', import.meta.url));

/** What a counting upstream reports about the requests it executed. */
export interface UpstreamStats {
  executed: Record<string, number>;
  total: number;
  received: number;
}

/** A counting upstream process (fixtures/resilience-upstream.mjs) that can be killed and restarted on its port. */
export class CountingUpstream {
  readonly name: string;
  /** Where the process appends the id of every request it executes (survives kills). */
  readonly logFile: string | undefined;
  port = 0;
  #listener: ListenerProcess | undefined;

  constructor(name: string, logFile?: string) {
    this.name = name;
    this.logFile = logFile;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the process (on the same port after a restart) and waits until it listens. */
  async start(): Promise<this> {
    const args = [String(this.port), this.name, ...(this.logFile ? [this.logFile] : [])];
    this.#listener = await startListener(FIXTURE, args);
    this.port = this.#listener.port;
    return this;
  }

  /** Kills the process with SIGKILL (connections are reset, nothing is answered). */
  async kill(): Promise<void> {
    await this.#listener?.stop('SIGKILL');
  }

  /** Sets how work requests are answered: ok, hang, fail503 or unprocessed. */
  async mode(mode: 'ok' | 'hang' | 'fail503' | 'unprocessed'): Promise<void> {
    const res = await request(`http://${this.address}/_mode/${mode}`, { method: 'POST', reset: true });
    await res.body.dump();
  }

  /** What the upstream has executed so far (empty after a restart). Control calls close their connection. */
  async stats(): Promise<UpstreamStats> {
    const res = await request(`http://${this.address}/_stats`, { reset: true });
    return (await res.body.json()) as UpstreamStats;
  }
}

/** Starts several counting upstreams in parallel. */
export function startCounting<const N extends readonly string[]>(
  ...names: N
): Promise<{ [K in keyof N]: CountingUpstream }> {
  return Promise.all(names.map((name) => new CountingUpstream(name).start())) as Promise<{
    [K in keyof N]: CountingUpstream;
  }>;
}
