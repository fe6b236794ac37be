import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childOutput } from './child-output.js';
import { removeOnExit } from './cleanup.js';
import { freePort } from './ports.js';
import { stopProcess } from './stop-process.js';
import { trackedSpawn } from './tracked-spawn.js';

/** Records the test DNS server answers for (all names should end in `.test`). */
export interface DnsRecords {
  /** SRV records. */
  srv?: Array<{ name: string; target: string; port: number; priority: number; weight: number }>;
  /** A/AAAA records; one line per address. */
  hosts?: Array<{ name: string; address: string; ttl: number }>;
}

/** A real dnsmasq (Debian's dnsmasq-base) on 127.0.0.1 and a random port, authoritative for `.test`. */
export interface DnsServer {
  /** `127.0.0.1:PORT`, for `servers: [...]`. */
  readonly server: string;
  /** Replaces the records (dnsmasq rereads its config only on start, so it restarts on the same port). */
  setRecords(records: DnsRecords): Promise<void>;
  /** Freezes the process (SIGSTOP): queries time out. */
  pause(): void;
  /** Unfreezes it (SIGCONT). */
  resume(): void;
  /** Stops the process by PID and removes its files. */
  stop(): Promise<void>;
}

function render(records: DnsRecords): string {
  const lines = (records.srv ?? []).map(
    (r) => `srv-host=${r.name},${r.target},${r.port},${r.priority},${r.weight}`,
  );
  for (const h of records.hosts ?? []) lines.push(`host-record=${h.name},${h.address},${h.ttl}`);
  return `${lines.join('\n')}\n`;
}

/** Starts dnsmasq answering `records`; unknown names under `.test` get NXDOMAIN. */
export async function startDns(records: DnsRecords): Promise<DnsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-dns-'));
  removeOnExit(dir);
  const conf = join(dir, 'records.conf');
  const port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      '--keep-in-foreground',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--local=/test/',
      '--local-ttl=1',
      '--cache-size=0',
      `--conf-file=${conf}`,
      '--pid-file=',
      '--user=root',
      '--log-facility=-',
    ];
    child = trackedSpawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    await childOutput(child, child.stderr!, /started, version/, 'dnsmasq');
  };

  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    await stopProcess(proc);
  };

  await writeFile(conf, render(records));
  await launch();
  return {
    server: `127.0.0.1:${port}`,
    async setRecords(next) {
      await writeFile(conf, render(next));
      await halt();
      await launch();
    },
    pause() {
      process.kill(child!.pid!, 'SIGSTOP');
    },
    resume() {
      process.kill(child!.pid!, 'SIGCONT');
    },
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
