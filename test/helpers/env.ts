/**
 * Configuration for tests: a complete, valid environment pointing at the run's servers, with dummy
 * credentials. Override what a suite needs:
 *
 *   const config = testConfig({ DATABASE_URL: db.url, SNOWFLAKE_ACCESS_URL: emulator.url });
 */
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type FloeConfig } from '../../src/config.js';
import { connectSnowflake } from '../../src/connectors/snowflake.js';

/**
 * The Snowflake user {@link testEnv} signs in as. The emulator has no users of its own: start it with
 * `user: TEST_SNOWFLAKE_USER` so this one exists.
 */
export const TEST_SNOWFLAKE_USER = { name: 'floe', password: 'test-password' } as const;

/** Environment variables for a valid config; `overrides` win (an `undefined` value removes a variable). */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DATABASE_URL: inject('pgServerUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    FLOE_TASK_QUEUE: `floe-test-${process.pid}`,
    // Test files run in parallel on one Temporal server: each its own drain Schedule, not the deployment's.
    EXECUTION_UPLOAD_SCHEDULE_ID: `floe-test-upload-drain-${process.pid}`,
    // One host: the test's worker writes the DuckDB file.
    FLOE_DUCKDB_OWNER: 'true',
    SNOWFLAKE_ACCOUNT: 'floe_test',
    SNOWFLAKE_USER: TEST_SNOWFLAKE_USER.name,
    SNOWFLAKE_PASSWORD: TEST_SNOWFLAKE_USER.password,
    SNOWFLAKE_ACCESS_URL: 'http://127.0.0.1:1',
    JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters',
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: 'admin-test-password',
    API_PORT: '0',
    FLOE_STATE_DIR: path.join(os.tmpdir(), `floe-test-state-${process.pid}`),
    LOG_LEVEL: 'warn',
    ...overrides,
  };
}

/** `loadConfig(testEnv(overrides))`. */
export function testConfig(overrides: Record<string, string | undefined> = {}): FloeConfig {
  return loadConfig(testEnv(overrides));
}

/** Run `statements` in order on the emulator at `accessUrl`, signed in as {@link TEST_SNOWFLAKE_USER}. */
export async function runOnEmulator(accessUrl: string, statements: readonly string[]): Promise<void> {
  const sf = await connectSnowflake({
    account: 'floe',
    username: TEST_SNOWFLAKE_USER.name,
    password: TEST_SNOWFLAKE_USER.password,
    accessUrl,
  });
  try {
    for (const sql of statements) await sf.query(sql);
  } finally {
    await sf.close();
  }
}
