import { defineConfig } from 'vitest/config';

// One Temporal dev server and one PostgreSQL per run (test/global-setup.ts); suites run in forks
// because DuckDB and the Temporal worker hold native resources (DESIGN §4).
export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    include: ['emulator/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
