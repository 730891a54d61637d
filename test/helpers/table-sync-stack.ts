/**
 * What the table sync suites driven through the API share: a Snowflake emulator (in its own temporary
 * directory, with floe's test user) whose tables a list of SQL statements makes, the API harness on
 * it (test/helpers/api-harness.ts) and an in-process table sync worker.
 *
 * ```ts
 * let stack: TableSyncStack;
 * beforeAll(async () => { stack = await startTableSyncStack({ setup: ['CREATE DATABASE D', ...], env: { SNOWFLAKE_DATABASE: 'D' } }); });
 * afterAll(() => stack?.close());
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duration } from '@temporalio/common';
import { startEmulator, type FaultOptions, type RunningEmulator } from '../../emulator/src/index.js';
import { connectSnowflake, type SnowflakeSession } from '../../src/connectors/snowflake.js';
import { createLogger } from '../../src/logger.js';
import { createWorker } from '../../src/worker.js';
import { startApiHarness, type ApiHarness } from './api-harness.js';
import { TEST_SNOWFLAKE_USER } from './env.js';

/** A session on `emulator` as {@link TEST_SNOWFLAKE_USER} (close it when done). */
export function emulatorSession(emulator: RunningEmulator): Promise<SnowflakeSession> {
  return connectSnowflake({
    account: 'floe',
    username: TEST_SNOWFLAKE_USER.name,
    password: TEST_SNOWFLAKE_USER.password,
    accessUrl: emulator.url,
  });
}

/** Run `statements` on `emulator`, one after the other, in one session. */
export async function runOnEmulator(emulator: RunningEmulator, statements: readonly string[]): Promise<void> {
  const sf = await emulatorSession(emulator);
  try {
    for (const sql of statements) await sf.query(sql);
  } finally {
    await sf.close();
  }
}

/** Options of {@link startTableSyncStack}. */
export interface TableSyncStackOptions {
  /** SQL run on the emulator before the API starts (databases, schemas, tables, rows). */
  setup: readonly string[];
  /** Environment of the API and the worker, over the harness's (the emulator's address is added). */
  env?: Record<string, string | undefined>;
  /** The emulator's injected faults. */
  faults?: FaultOptions;
  /** The worker's heartbeat throttle (src/worker.ts; default 5 s). */
  heartbeatThrottle?: Duration;
}

/** A running {@link startTableSyncStack}. */
export interface TableSyncStack {
  emulator: RunningEmulator;
  h: ApiHarness;
  /** Stops the worker, the API and the emulator, and deletes the emulator's directory. */
  close(): Promise<void>;
}

/** Start the emulator, run `setup` on it, then the API harness and a table sync worker on them. */
export async function startTableSyncStack(o: TableSyncStackOptions): Promise<TableSyncStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-sync-stack-'));
  const emulator = await startEmulator({ port: 0, dataDir: dir, faults: o.faults, user: TEST_SNOWFLAKE_USER });
  await runOnEmulator(emulator, o.setup);
  const h = await startApiHarness({ SNOWFLAKE_ACCESS_URL: emulator.url, SNOWFLAKE_ACCOUNT: 'floe', ...o.env });
  const worker = await createWorker({
    config: h.config,
    jobs: ['table-sync'],
    heartbeatThrottle: o.heartbeatThrottle,
    logger: createLogger({ level: 'silent' }),
  });
  const running = worker.run();
  return {
    emulator,
    h,
    async close() {
      worker.shutdown();
      await running.catch(() => undefined);
      await h.close();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
