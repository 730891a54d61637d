import { defineConfig } from 'vitest/config';

// Emulator suites alone, without the project's globalSetup (no Temporal/PostgreSQL needed):
// `npx vitest run --config emulator/vitest.config.ts`.
export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    include: ['emulator/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
