import { defineConfig } from 'vitest/config';

// Emulator suites alone, without the project's globalSetup (no Temporal/PostgreSQL needed):
// `npx vitest run --config emulator/vitest.config.ts`.
export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    include: ['emulator/test/**/*.test.ts'],
    // snowflake-sdk probes cloud metadata endpoints when it loads unless told not to: keep tests on loopback.
    env: { SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
