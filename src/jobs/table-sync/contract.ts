/**
 * Table sync (Snowflake → DuckDB): names, inputs and results shared by the workflow, its activities,
 * the client and the API. Types and constants only — workflows import this file at run time, so it
 * must stay free of I/O and Node built-ins.
 */
import { JOB_KIND_ATTRIBUTE } from '../common.js';

/** Workflow type name registered by the worker. */
export const TABLE_SYNC_WORKFLOW = 'tableSync';

/** Full refresh replaces the target; incremental takes rows past the stored high-water mark. */
export type SyncStrategy = 'full' | 'incremental';

/**
 * How rows move: `stage` unloads Parquet to a Snowflake stage and GETs it; `stream` reads rows through
 * snowflake-sdk into the DuckDB appender; `auto` picks `stage` above {@link AUTO_STAGE_MIN_ROWS}.
 */
export type TransferMethod = 'auto' | 'stage' | 'stream';

/** `auto` uses the stage above this many source rows (streaming decodes ~30–50k rows/s). */
export const AUTO_STAGE_MIN_ROWS = 100_000;

/** Input of one tableSync run. Carries ids and names only — never credentials. */
export interface TableSyncInput {
  /** Registered table id (allowed_tables.table_id). */
  tableId: string;
  /** Snowflake database, schema and table, as registered (case as Snowflake stores it). */
  database: string;
  schema: string;
  table: string;
  /**
   * DuckDB target (from registration: `allowed_tables.target_schema/target_table`). Absent only in
   * the inputs of Schedules created before targets were recorded; the activities then read the
   * registration's target from PostgreSQL.
   */
  target?: { schema: string; table: string };
  strategy: SyncStrategy;
  method: TransferMethod;
  /**
   * Incremental: re-read this many seconds (or watermark units) before the high-water mark for late
   * commits. Needs a primary key (re-read rows are MERGEd on it; without one they would be appended
   * twice), so the workflow refuses a positive lag without a key.
   */
  lagSeconds?: number;
  /** Stream method: rows per fetched batch. */
  batchRows?: number;
  /**
   * Incremental: the watermark column (from registration, `allowed_tables.watermark_column`).
   * Required for `incremental`; must be NUMBER, DATE or TIMESTAMP_*.
   */
  watermarkColumn?: string;
  /**
   * Primary key columns (from registration, `allowed_tables.primary_key`). Incremental: MERGE key
   * (without one, rows strictly past the high-water mark are appended). Full refresh streaming with a
   * single-column key pages on it and can resume after a crash.
   */
  primaryKey?: string[];
  /**
   * Heartbeat timeout of the transfer activity in seconds (default HEARTBEAT_TIMEOUT_SECONDS,
   * src/errors.ts): how soon a dead worker's attempt is retried.
   */
  heartbeatTimeoutSeconds?: number;
  /**
   * Task queue of the activities that write the DuckDB file (transfer, cleanup): the DuckDB owner's
   * queue, `taskQueues(prefix).tableSyncTransfer` (src/jobs/common.ts). Absent: the workflow's own
   * queue (runs started before the queues were split).
   */
  transferTaskQueue?: string;
}

/**
 * Row counts of one transfer, each verified against the others before anything is committed (a run
 * whose numbers cannot be right fails with VerificationFailed and commits nothing):
 * - full refresh: `sourceRows` = `rowsRead` = `rowsInTarget` = `rowsInserted`;
 * - incremental with a primary key: `rowsInserted` + `rowsUpdated` = distinct keys read, and
 *   `rowsInTarget` = target rows before + `rowsInserted`;
 * - incremental without a key (append): `rowsInserted` = `rowsRead`, and the target grew by as many.
 */
export interface TableSyncCounts {
  /**
   * Rows of the source in the snapshot that was read (full refresh: the unload's `rows_unloaded`, or
   * `COUNT(*)` read in the same statement as the rows by the stream method); null for incremental.
   */
  sourceRows: number | null;
  /** Rows read from Snowflake in this run. */
  rowsRead: number;
  /** Rows added to the target. */
  rowsInserted: number;
  /** Target rows replaced by a newer version (MERGE on the primary key). */
  rowsUpdated: number;
  /** Rows in the DuckDB target after the run. */
  rowsInTarget: number;
}

/** Result of a completed tableSync run (also the job's `stats`). */
export interface TableSyncResult extends TableSyncCounts {
  /** Bytes of the staged/downloaded files (stage method), or 0. */
  bytes: number;
  method: 'stage' | 'stream';
  strategy: SyncStrategy;
  /** Wall time of the run in ms. */
  durationMs: number;
  /** New high-water mark as text (incremental), or null. */
  watermark: string | null;
  /** Qualified DuckDB target name, e.g. "SNOWFLAKE_SAMPLE_DATA__TPCH_SF1"."LINEITEM". */
  target: string;
}

/**
 * What the workflow knows of its progress, answered by its `progress` query: the step it is in
 * (`schema`: status and describe; `transfer`: the transfer activity runs; `cleanup` after a failure or
 * cancellation; `done`), rows loaded (known when the transfer returns) and, for a full refresh, the
 * source's row count from its statistics. Rows loaded during the transfer come from its heartbeats
 * ({@link TransferProgress}), which only the client can read (a workflow cannot see the heartbeat details
 * of its running activity).
 */
export interface TableSyncProgress {
  phase: 'schema' | 'transfer' | 'cleanup' | 'done';
  rowsLoaded: number;
  rowsTotal?: number;
}

/**
 * What the transfer activity reports with each heartbeat (the details Temporal keeps for the running
 * attempt and returns in DescribeWorkflowExecution's pending activities).
 */
export interface TransferProgress {
  /**
   * `unload` (COPY INTO @stage), `download` (GET), `load` (one INSERT from `read_parquet`) for
   * the stage method; `stream` (rows through snowflake-sdk, reported per batch) for the stream method.
   */
  phase: 'unload' | 'download' | 'load' | 'stream';
  /**
   * Rows that reached DuckDB so far in this run (stage: DuckDB's progress estimate of the INSERT times the
   * unloaded rows, then its count; stream: after each batch).
   */
  rowsLoaded: number;
  /**
   * Rows the run loads, once known: the unload's `rows_unloaded` (stage), the source's `COUNT(*)` read
   * with the first rows (stream, full refresh); absent for an incremental stream.
   */
  rowsTotal?: number;
  /** Bytes of the unloaded Parquet files (stage, the unload's `output_bytes`); 0 for the stream method. */
  bytes: number;
  /** Rows loaded per second by the current attempt, since it started (absent before its first rows). */
  rowsPerSecond?: number;
}

/**
 * `progress` of a running job in `GET /api/v1/sync/jobs/{id}`: the workflow's step, refined by the
 * transfer's last heartbeat while it runs (phase `unload`, `download`, `load` or `stream`). Heartbeats
 * reach Temporal at most every few seconds (the worker's heartbeat throttling), so the figures are that
 * fresh. `rowsTotal` and `rowsPerSecond` are null until known.
 */
export interface TableSyncJobProgress {
  phase: TableSyncProgress['phase'] | TransferProgress['phase'];
  rowsLoaded: number;
  rowsTotal: number | null;
  bytes: number;
  rowsPerSecond: number | null;
}

/** FloeJobKind value of table syncs (also the `jobKind` memo of their Schedules). */
export const TABLE_SYNC_JOB_KIND = JOB_KIND_ATTRIBUTE['table-sync'];

/** Name of the `progress` query ({@link TableSyncProgress}); `defineQuery` lives next to the workflow. */
export const TABLE_SYNC_PROGRESS_QUERY = 'progress';
