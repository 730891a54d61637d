/**
 * What the API's routes need: configuration, the control-plane pool, a Temporal client, Snowflake
 * settings (credentials stay inside the API process), the DuckDB target path and a logger.
 */
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { FloeConfig } from '../config.js';
import type { SnowflakeSettings } from '../connectors/snowflake.js';
import type { Logger } from './logger.js';

/** Dependencies of {@link createApp} (src/api/app.ts). */
export interface ApiDeps {
  config: FloeConfig;
  pool: pg.Pool;
  temporal: Client;
  snowflake: SnowflakeSettings;
  duckdbPath: string;
  logger: Logger;
  /** Pool on PG_SYNC_SOURCE_URL when it differs from DATABASE_URL (watermark sync discovery); default `pool`. */
  watermarkSyncSourcePool?: pg.Pool;
  /**
   * `temporal` is built on the `NativeConnection` of a worker in this process (`npm run stack`): cache
   * refreshes the API starts ask for Temporal's eager workflow start (`eagerStart` in src/client/cacheRefresh.ts).
   */
  eagerStart?: boolean;
  /** Deadline of the Temporal calls of one request, ms (default TEMPORAL_DEADLINE_MS, 8 s). */
  temporalDeadlineMs?: number;
}

/** The Snowflake database used when a request names none (SNOWFLAKE_DATABASE). */
export function defaultDatabase(deps: ApiDeps): string | undefined {
  return deps.snowflake.database ?? deps.config.snowflake.database;
}
