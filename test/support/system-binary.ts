import { accessSync, appendFileSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'vitest';

/** A program a suite needs from the system, and how a person gets it. */
export interface SystemBinary {
  /** The executable's name, looked up on PATH (e.g. `etcd`). */
  readonly name: string;
  /** The command that installs it (e.g. `apt-get install etcd-server`). */
  readonly install: string;
}

export const ETCD: SystemBinary = { name: 'etcd', install: 'apt-get install etcd-server' };
export const DNSMASQ: SystemBinary = { name: 'dnsmasq', install: 'apt-get install dnsmasq-base' };
export const CHROMIUM: SystemBinary = { name: 'chromium', install: 'apt-get install chromium' };
export const PROMETHEUS: SystemBinary = { name: 'prometheus', install: 'apt-get install prometheus' };
export const OPENSSL: SystemBinary = { name: 'openssl', install: 'apt-get install openssl' };

/** The environment variable the run's summary is written through (set by test/support/global-setup.ts). */
export const SKIP_LOG_ENV = 'TRELLIS_SKIP_LOG';

/** True when a missing binary must fail the run instead of skipping: `CI=true` or `TRELLIS_REQUIRE_ALL=1`. */
export function everyBinaryRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.TRELLIS_REQUIRE_ALL === '1';
}

/** Whether `name` is an executable file in one of PATH's folders. */
export function onPath(name: string, path = process.env.PATH ?? ''): boolean {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

function missingMessage(title: string, missing: SystemBinary[]): string {
  const what = missing.map((b) => `${b.name} (install: ${b.install})`).join(', ');
  return `"${title}" needs ${what}: not found on PATH`;
}

/**
 * `describe` for a suite that needs programs from the system. When one is missing, the suite
 * skips locally with one line naming it and how to install it (and the run's summary lists it);
 * with `CI=true` or `TRELLIS_REQUIRE_ALL=1` the suite instead fails with that line, so nothing is
 * silently skipped in CI. Put the suite's hooks inside `body`, so a skipped suite starts nothing.
 */
export function describeWithBinaries(needs: SystemBinary[], title: string, body: () => void): void {
  const missing = needs.filter((b) => !onPath(b.name));
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const message = missingMessage(title, missing);
  if (everyBinaryRequired()) {
    describe(title, () => {
      it(`needs ${missing.map((b) => b.name).join(', ')}`, () => {
        throw new Error(`${message} (required because CI=true or TRELLIS_REQUIRE_ALL=1)`);
      });
    });
    return;
  }
  process.stderr.write(`skip: ${message}\n`);
  const log = process.env[SKIP_LOG_ENV];
  if (log) appendFileSync(log, `${JSON.stringify({ title, missing })}\n`);
  describe.skip(title, body);
}
