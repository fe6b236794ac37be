import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startListener } from './listener-process.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/profiled-upstream.mjs', import.meta.url));

/** How a profiled upstream answers (see fixtures/profiled-upstream.mjs). */
export interface Profile {
  delayMs?: number;
  spikeRate?: number;
  spikeMs?: number;
  errorRate?: number;
  seed?: number;
  /** Send 200 headers and half the body, then reset the connection or stall. */
  bodyFault?: 'reset' | 'stall';
}

/** A profiled upstream process on 127.0.0.1. */
export interface ProfiledUpstream {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  readonly process: ChildProcess;
  /** Stops the process by PID and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts a profiled upstream (optionally on a given port, e.g. to restart one) and waits until it listens. */
export async function startProfiled(
  name: string,
  profile: Profile = {},
  port = 0,
): Promise<ProfiledUpstream> {
  const listener = await startListener(FIXTURE, [String(port), name, JSON.stringify(profile)]);
  return { ...listener, name, address: `127.0.0.1:${listener.port}` };
}
