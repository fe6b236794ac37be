import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

// A local stand-in for the shared skip helper firsthour-infra is building in test/support/:
// swap to it once it is on main.

/** Whether missing binaries must fail the run instead of skipping (CI). */
const REQUIRED = process.env.CI === 'true' || process.env.TRELLIS_REQUIRE_ALL === '1';

/**
 * The path of a system binary, or `undefined` after printing one line that names it and how to
 * install it. In CI (`CI=true` or `TRELLIS_REQUIRE_ALL=1`) a missing binary throws instead, so
 * the suite fails rather than passing by skipping.
 */
export function systemBinary(name: string, install: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  const message = `${name} not found on PATH: install it with \`${install}\``;
  if (REQUIRED) throw new Error(`${message} (required: CI=true or TRELLIS_REQUIRE_ALL=1)`);
  console.warn(`skipping: ${message}`);
  return undefined;
}
