/**
 * Watermark sync (PostgreSQL → Snowflake): names, inputs and results shared by the workflows, their
 * activities, the client, the API and the CLI. Types and pure functions only — workflows import this
 * file at run time, so it must stay free of I/O and Node built-ins.
 *
 * One Temporal Schedule (overlap: skip) starts the `watermarkSync` parent every
 * `sync_interval_seconds`; the parent starts one `watermarkTableSync` child per configured table
 * (workflow id {@link tableWorkflowId}, so two runs never work on one table at once); each child
 * loops batches paged on (watermark, primary key) and continues-as-new on long catch-ups.
 */

/** Config name used when a request or the YAML names none. */
export const DEFAULT_CONFIG_NAME = 'default';

/**
 * Schedule id of a config name: `pg-sync-<name>`. The `pg-sync` prefix is the job's former name, kept
 * on purpose: Schedules created by earlier releases carry these ids, and an apply must update them in
 * place (a new prefix would start a second Schedule beside the old one). The workflow ids below derive
 * from it for the same reason.
 */
export function scheduleId(name: string): string {
  return `pg-sync-${name}`;
}

/** Workflow id of the runs the Schedule starts (Temporal appends the scheduled time). */
export function scheduledWorkflowId(name: string): string {
  return `${scheduleId(name)}-run`;
}

/** Workflow id of a backfill run started at `startedAtMs`. */
export function backfillWorkflowId(name: string, startedAtMs: number): string {
  return `${scheduleId(name)}-backfill-${startedAtMs}`;
}

/**
 * Workflow id of the per-table child: stable, so a second run of the same table is refused while one
 * runs (also across a deployment: runs of earlier releases used the same id).
 */
export function tableWorkflowId(name: string, sourceTable: string): string {
  return `${scheduleId(name)}/${sourceTable}`;
}

/** The `FloeTable` search attribute of a parent run: the config it syncs. */
export function configSubject(name: string): string {
  return `watermark-sync:${name}`;
}

/** How a batch reaches the Snowflake staging table. */
export type LoadMethod = 'binds' | 'files';
/** Per-table choice; `auto` uses binds for a page of up to `bind_max_rows` rows, files above. */
export type LoadMethodChoice = 'auto' | LoadMethod;
/** Local file format of the `files` method. */
export type FileFormat = 'csv' | 'parquet';

/** Transform of a table's rows: a named function registered in code, or PostgreSQL column expressions. */
export type TransformSpec =
  | { kind: 'function'; name: string }
  /** Column name → PostgreSQL expression over the source row, evaluated in the source SELECT. */
  | { kind: 'sql'; columns: Record<string, string> };

/**
 * One table of a validated config (no secrets). Names are as written in the config; they are parsed
 * as identifiers by the activities (unquoted → folded: lower case in PostgreSQL, upper case in Snowflake).
 */
export interface WatermarkTableSpec {
  /** `schema.table` (or `table`, schema `public`) in the source PostgreSQL database. */
  source: string;
  /** `schema.table` or `database.schema.table` in Snowflake (two parts use SNOWFLAKE_DATABASE). */
  target: string;
  /** Primary key columns (one or more), source names. */
  pk: string[];
  /** Watermark column: timestamp, timestamptz, date, or an integer/numeric column. */
  watermarkColumn: string;
  /** Rows per read from the source (one page in (watermark, pk) order). */
  batchSize: number;
  /**
   * Rows staged for one MERGE while pages come back full (a catch-up): pages are read and staged until
   * this many rows are staged, then one MERGE, then the stored position advances. At most `batchSize`:
   * one page per MERGE. Absent in configs applied before it existed (then the default, 1,000,000).
   */
  mergeMaxRows?: number;
  transform: TransformSpec | null;
  /** Re-read this many seconds (numeric watermarks: units) before the high-water mark for late commits. */
  lagSeconds: number;
  loadMethod: LoadMethodChoice;
  fileFormat: FileFormat;
  /** `auto` uses binds for pages of at most this many rows. */
  bindMaxRows: number;
  /** Soft-delete column: a row whose value is TRUE (boolean) or NOT NULL (other types) is deleted from the target. */
  softDeleteColumn: string | null;
  /** Create the Snowflake target from the source's columns when it does not exist. */
  createTarget: boolean;
}

/** A validated config as the schedule carries it (the YAML's `source_database_url` never goes here). */
export interface WatermarkSyncConfig {
  name: string;
  syncIntervalSeconds: number;
  /** Tables synced at the same time by one run. */
  maxParallelTables: number;
  tables: WatermarkTableSpec[];
}

/** Input of the parent workflow. */
export interface WatermarkSyncInput {
  config: WatermarkSyncConfig;
  /** Only these source tables (backfill / manual runs); default all. */
  only?: string[];
  /** Task queue of the batch activities (default: the workflow's). */
  activityTaskQueue?: string;
  /**
   * Heartbeat timeout of a batch activity in seconds (default HEARTBEAT_TIMEOUT_SECONDS, src/errors.ts):
   * how soon a dead worker's batch is retried.
   */
  batchHeartbeatSeconds?: number;
  /** Batches per child run before continue-as-new (default 200; Temporal's suggestion also triggers it). */
  batchesPerRun?: number;
}

/** A position in (watermark, pk) order, values as text in their PostgreSQL types. */
export interface SyncPosition {
  watermark: string;
  /** null: the position is "after every row with this watermark" (wm > watermark). */
  pk: string[] | null;
}

/** Input of one `watermarkTableSync` child run. */
export interface WatermarkTableSyncInput {
  configName: string;
  table: WatermarkTableSpec;
  activityTaskQueue?: string;
  batchHeartbeatSeconds?: number;
  batchesPerRun?: number;
  /** Set by continue-as-new: where the previous run stopped and what it did. */
  carry?: WatermarkTableCarry;
}

/** State carried across continue-as-new. */
export interface WatermarkTableCarry {
  plan: TablePlanRef;
  position: SyncPosition | null;
  /** The stored position's write counter the next batch advances from (absent in carries of earlier releases). */
  positionSeq?: number;
  rows: number;
  batches: number;
  startedAtMs: number;
  binds: number;
  files: number;
}

/**
 * What the begin activity found: column lists and types (small metadata, no rows), the epoch, the
 * lag floor. Passed to each batch activity.
 */
export interface TablePlanRef {
  epoch: number;
  /**
   * Columns loaded, in staging order: `name` is the key in the row (source column, or a column a
   * transform adds), `expr` the PostgreSQL expression that reads it as text (null: added by a
   * function transform), `target` the Snowflake column and `sfType` its type.
   */
  columns: { name: string; expr: string | null; target: string; sfType: string }[];
  /** PostgreSQL type of the watermark column (format_type), e.g. `timestamp with time zone`. */
  watermarkType: string;
  /** PostgreSQL types of the pk columns, in key order. */
  pkTypes: string[];
  /** `now() - lag` in the watermark's type (time watermarks), or null (numeric: position - lag). */
  lagFloor: string | null;
  /** Resolved Snowflake target: database, schema, table (as stored). */
  target: [string, string, string];
  /** Soft-delete column (source name) and whether it is boolean (else: deleted when NOT NULL). */
  softDelete: { column: string; isBoolean: boolean } | null;
  /** Resolved source `[schema, table]`, watermark and pk columns (PostgreSQL names). */
  source: [string, string];
  watermarkColumn: string;
  pk: string[];
  /** Target names of the pk columns. */
  pkTargets: string[];
}

/** Outcome of one table in one run. */
export type TableRunStatus = 'success' | 'idle' | 'error' | 'skipped' | 'superseded';

/** Result of a `watermarkTableSync` child (its final run). */
export interface WatermarkTableSyncResult {
  source: string;
  status: TableRunStatus;
  rows: number;
  batches: number;
  /** Batches loaded by binds / by files. */
  binds: number;
  files: number;
  durationMs: number;
  position: SyncPosition | null;
  error?: string;
}

/** Result of a `watermarkSync` parent run. */
export interface WatermarkSyncResult {
  tables: WatermarkTableSyncResult[];
  rows: number;
  failed: number;
}
