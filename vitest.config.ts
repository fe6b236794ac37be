import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Prints which suites skipped for a missing system binary (see test/support/system-binary.ts).
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real upstream processes; two cores, so keep file-level parallelism modest.
    maxWorkers: 2,
  },
});
