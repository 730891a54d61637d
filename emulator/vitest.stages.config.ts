import { defineConfig } from 'vitest/config';

// Stage/COPY suites without the project-wide global setup (Temporal, PostgreSQL): they need only DuckDB
// and, for the end-to-end suites, the in-process emulator.
export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    include: ['emulator/test/stages*.test.ts', 'emulator/test/copy*.test.ts'],
    // snowflake-sdk probes cloud metadata endpoints when it loads unless told not to: keep tests on loopback.
    env: { SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
