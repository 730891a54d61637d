/**
 * The shared fixture of the cache refresh end-to-end suites: a fresh PostgreSQL database (control plane
 * and DuckLake catalog), the Snowflake emulator with a password user and the suite's seed statements, a
 * DuckLake data path in a temp directory, a Temporal client of the run's dev server, and a signed-in
 * session for the suite's own changes to the source.
 *
 *   const env = await startCacheRefreshEnv({ prefix: 'floe_cache', seed: ['CREATE DATABASE SRC', ...] });
 *   ...
 *   await env.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { connectSnowflake, type SnowflakeSession, type SnowflakeSettings } from '../../src/connectors/snowflake.js';
import { createPool } from '../../src/db/index.js';
import { closeLakes, type LakeSettings } from '../../src/jobs/cache-refresh/storage.js';
import { freshDatabase, type FreshDatabase } from './db.js';
import { temporalTarget } from './temporal.js';

/** What {@link startCacheRefreshEnv} gives a suite. */
export interface CacheRefreshEnv {
  /** Temp directory of the suite (emulator data, lake, downloads); removed by `close`. */
  root: string;
  db: FreshDatabase;
  pool: pg.Pool;
  emu: RunningEmulator;
  /** Sign-in of the emulator user `u` (password), default database SRC, schema S1. */
  sfSettings: SnowflakeSettings;
  /** A session as that user, for the suite's own statements. */
  sf: SnowflakeSession;
  lake: LakeSettings;
  /** Temporal client of the run's dev server. */
  client: Client;
  /** Close everything the fixture opened, drop the database and remove `root`. */
  close(): Promise<void>;
}

/**
 * Start the fixture: `seed` runs in order on the emulator (as `u`) before returning.
 * @throws whatever start-up step failed (after closing what was opened is left to `close`, which
 * tolerates a partial fixture).
 */
export async function startCacheRefreshEnv(opts: { prefix: string; seed: string[] }): Promise<CacheRefreshEnv> {
  const root = mkdtempSync(path.join(os.tmpdir(), `${opts.prefix}-`));
  const db = await freshDatabase({ prefix: opts.prefix });
  const pool = createPool(db.url, { max: 10 });
  const emu = await startEmulator({
    port: 0,
    dataDir: path.join(root, 'emu'),
    user: { name: 'u', password: 'sf-secret-pw' },
  });
  const sfSettings: SnowflakeSettings = {
    account: 'floe',
    username: 'u',
    password: 'sf-secret-pw',
    accessUrl: emu.url,
    database: 'SRC',
    schema: 'S1',
  };
  const sf = await connectSnowflake(sfSettings);
  for (const statement of opts.seed) await sf.query(statement);
  const { address, namespace } = temporalTarget();
  const connection = await Connection.connect({ address });
  return {
    root,
    db,
    pool,
    emu,
    sfSettings,
    sf,
    lake: { catalogUrl: db.url, dataPath: path.join(root, 'lake'), alias: 'lake' },
    client: new Client({ connection, namespace }),
    async close() {
      await closeLakes();
      await sf.close();
      await emu.close();
      await connection.close();
      await pool.end();
      await db.drop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
