/**
 * Inputs, results and dependencies of the table sync activities, and the plan of one transfer
 * ({@link RunPlan}: what the transfer activity derives from its input and the target's state).
 */
import type pg from 'pg';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { SnowflakeSettings } from '../../connectors/snowflake.js';
import type { ColumnPlan } from '../../sql/typemap.js';
import type * as S from '../../jobs/table-sync/sql.js';
import type { SyncStrategy, TableSyncCounts, TransferProgress } from '../../jobs/table-sync/contract.js';

/** What the activities are built from (the worker's config). */
export interface TableSyncDeps {
  snowflake: SnowflakeSettings;
  /** DuckDB target file. */
  duckdbPath: string;
  /** Control-plane pool; status/metadata mirroring is skipped without it. */
  pool?: pg.Pool;
  /** Root of job-scoped local download directories (`<tmpDir>/<job>/`). */
  tmpDir: string;
  /** Stage used for unloads as [database, schema, name]; default `<snowflake.database|source db>.<schema|source schema>.FLOE_STAGE`. */
  stage?: [string, string, string];
  /** Target size of each unloaded file, bytes (default 64 MiB; Snowflake's MAX_FILE_SIZE). */
  maxFileSizeBytes?: number;
  /** GET ... PARALLEL (default 8). */
  getParallel?: number;
  /** How often the stage load reports DuckDB's progress estimate, ms (default 1 000). */
  loadProgressEveryMs?: number;
  logger?: Logger;
}

/** Input of `tableSyncDescribe`. */
export interface DescribeInput extends S.SourceTable {
  tableId: string;
}

/** Input of `tableSyncTransfer` (references and names only). */
export interface TransferInput {
  jobId: string;
  tableId: string;
  source: S.SourceTable;
  /** DuckDB target; absent → the registration's (PostgreSQL), else {@link S.defaultTarget}. */
  target?: S.TargetTable;
  strategy: SyncStrategy;
  method: 'stage' | 'stream';
  columns: ColumnPlan[];
  /** Incremental: watermark column name. */
  watermarkColumn?: string;
  /** Incremental: primary key columns (MERGE key); empty/absent → append past the high-water mark. */
  primaryKey?: string[];
  lagSeconds?: number;
  /** Stream: rows per committed batch (default 50 000). */
  batchRows?: number;
}

/** Result of `tableSyncTransfer`: the verified counts, and how the rows moved. */
export interface TransferResult extends TableSyncCounts {
  bytes: number;
  files: number;
  watermark: string | null;
  method: 'stage' | 'stream';
  target: string;
}

/** Heartbeat details: the progress the API shows, and what a retried attempt resumes from. */
export interface TransferDetails extends TransferProgress {
  /** Stage: the unload of this job finished (files may still be on the stage). */
  unloaded?: { rows: number; bytes: number };
  /** Stream: last committed (watermark, key) or (key) texts. */
  cursor?: { watermark: string | null; key: string | null };
  /** Stream full refresh: the source's COUNT(*) reported by the first statement. */
  sourceRows?: number;
  /** Stream incremental: counts of the committed pages. */
  counts?: { rowsRead: number; rowsInserted: number; rowsUpdated: number };
}

/**
 * The stage unloads go to, as [database, schema, name]: the configured one, else `FLOE_STAGE` in
 * SNOWFLAKE_DATABASE / SNOWFLAKE_SCHEMA, falling back to the source table's database and schema.
 */
export function stageOf(deps: TableSyncDeps, src: S.SourceTable): [string, string, string] {
  return deps.stage ?? [deps.snowflake.database ?? src.database, deps.snowflake.schema ?? src.schema, 'FLOE_STAGE'];
}

/** What a transfer derived from its input and the target's state (see tableSyncTransfer). */
export interface RunPlan {
  input: TransferInput;
  target: S.TargetTable;
  /** The target holds another registration's rows: incremental drops it before its first load. */
  replaceTarget: boolean;
  cols: ColumnPlan[];
  wm: ColumnPlan | null;
  key: ColumnPlan[];
  pkSingle: ColumnPlan | null;
  window: S.WindowFilter | null;
  oldHwm: string | null;
  /** Full refresh: the registered watermark column whose max becomes the high-water mark, if any. */
  fullRefreshWm: ColumnPlan | null;
  /** Incremental: what the committed batches read, inserted and updated so far. */
  counts: { rowsRead: number; rowsInserted: number; rowsUpdated: number };
}

/** A {@link RunPlan} with the open DuckDB connection of the target file. */
export interface RunCtx extends RunPlan {
  conn: DuckDBConnection;
}
