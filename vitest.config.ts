import { defineConfig } from 'vitest/config';

// One Temporal dev server and one PostgreSQL per run (test/global-setup.ts); suites run in forks
// because DuckDB and the Temporal worker hold native resources.
export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    include: ['emulator/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // snowflake-sdk probes cloud metadata endpoints when it loads; keep every test process on loopback
    // (src/connectors/snowflake-env.ts explains).
    env: { SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
