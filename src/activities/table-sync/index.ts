/**
 * Activities of the table sync (Snowflake → DuckDB). Built by {@link createTableSyncActivities}
 * around a closure of dependencies, so credentials never travel in inputs.
 *
 * - `tableSyncDescribe`: schema + statistics (INFORMATION_SCHEMA), mirrored to `table_metadata`.
 * - `tableSyncTransfer`: moves the rows and commits them, in ONE activity so download and load run on
 *   the same host. Stage: CREATE STAGE IF NOT EXISTS → COPY INTO @stage/<job>/ (Parquet) →
 *   GET PARALLEL → the files into a staging table (`read_parquet`, explicit casts, one INSERT with
 *   DuckDB's progress estimate) → one DuckDB transaction that commits them → REMOVE + local delete in
 *   `finally`. Stream:
 *   snowflake-sdk rows (numbers/JSON/binary as strings) → DuckDB appender into a VARCHAR landing table
 *   → typed INSERT/MERGE per batch, heartbeating a cursor. Both heartbeat their progress
 *   (TransferProgress: phase, rows loaded, rows expected, bytes, rate).
 *   Full refresh loads a staging table and swaps it in one transaction; incremental MERGEs on the
 *   primary key (or appends past the high-water mark without one) and writes the new high-water mark
 *   to `_floe.state` in the same transaction. Before committing, the counts are checked against the
 *   source (the unload's rows, or COUNT(*) read in the same statement as the rows) and each other
 *   (see TableSyncCounts); numbers that cannot be right fail with VerificationFailed, rolled back.
 * - `tableSyncCleanup`: REMOVE of the job's stage path, local files and the staging table; idempotent,
 *   run by the workflow on failure/cancellation (covers a worker that died before its `finally`).
 * - `tableSyncRecordStatus`: `table_sync_status` upsert (PostgreSQL), idempotent.
 *
 * Idempotence: a retried transfer starts over or resumes from heartbeat details; every commit is a
 * single DuckDB transaction that either replaces (full) or MERGEs (incremental, keyed), so re-running
 * a committed step does not duplicate rows. Append mode (no primary key) reads strictly past the
 * committed high-water mark read from the same DuckDB file, so a retry after a commit reads nothing twice.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { connectSnowflake, type SnowflakeSession } from '../../connectors/snowflake.js';
import { withDuckDb } from '../../connectors/duckdb.js';
import { jobSegment, removeFromStage } from '../../connectors/snowflake-stage.js';
import { quoteDuckDbName, snowflakeStagePath } from '../../sql/quote.js';
import type { ColumnPlan } from '../../sql/typemap.js';
import { subtractLag, WATERMARK_FAMILIES, KEY_FAMILIES } from '../../sql/values.js';
import { floeError, NonRetryable } from '../../errors.js';
import * as S from '../../jobs/table-sync/sql.js';
import {
  recordMetadata,
  recordStatus,
  registeredTarget,
  type TableStatusUpdate,
} from '../../jobs/table-sync/status.js';
import { activityLogger } from '../context.js';
import { countRows, describeSource, type SourceDescription } from './snowflake.js';
import * as D from './duckdb.js';
import { transferByStage } from './stage.js';
import { transferByStream } from './stream.js';
import {
  stageOf,
  type DescribeInput,
  type RunPlan,
  type TableSyncDeps,
  type TransferInput,
  type TransferResult,
} from './types.js';

/** The column `name` of `cols`; InvalidRequest naming the table when it has none. */
function pick(cols: readonly ColumnPlan[], name: string, what: string, t: S.SourceTable): ColumnPlan {
  const c = cols.find((x) => x.name === name);
  if (!c) throw floeError(NonRetryable.InvalidRequest, `${what} column ${name} does not exist in ${S.displayName(t)}`);
  return c;
}

/** Build the table-sync activities. Throws nothing at construction. */
export function createTableSyncActivities(deps: TableSyncDeps) {
  /** The deps logger with the current activity's workflow id, run id and attempt. */
  const lg = () => activityLogger(deps.logger);

  async function withSf<T>(fn: (sf: SnowflakeSession) => Promise<T>): Promise<T> {
    const sf = await connectSnowflake(deps.snowflake);
    try {
      return await fn(sf);
    } finally {
      await sf.close();
    }
  }

  /** Schema + statistics; mirrored to table_metadata when a pool is configured. */
  async function tableSyncDescribe(input: DescribeInput): Promise<SourceDescription> {
    const d = await withSf((sf) => describeSource(sf, input));
    if (deps.pool) await recordMetadata(deps.pool, { tableId: input.tableId, ...d });
    return d;
  }

  /** Upsert table_sync_status; returns whether a registered table row was written. */
  async function tableSyncRecordStatus(u: TableStatusUpdate): Promise<boolean> {
    if (!deps.pool) return false;
    const ok = await recordStatus(deps.pool, u);
    if (!ok) lg()?.debug({ tableId: u.tableId }, 'table not registered; status not recorded');
    return ok;
  }

  /**
   * The DuckDB target of a run: the input's, else the registration's (inputs of Schedules created
   * before targets were recorded), else the default rule (unregistered ad-hoc runs).
   */
  async function resolveTarget(input: {
    tableId: string;
    source: S.SourceTable;
    target?: S.TargetTable;
  }): Promise<S.TargetTable> {
    if (input.target) return input.target;
    return (deps.pool ? await registeredTarget(deps.pool, input.tableId) : null) ?? S.defaultTarget(input.source);
  }

  /** REMOVE the job's stage path, delete its local directory and drop a leftover staging table. Idempotent. */
  async function tableSyncCleanup(input: {
    jobId: string;
    tableId: string;
    source: S.SourceTable;
    target?: S.TargetTable;
  }): Promise<{ removed: boolean }> {
    const seg = jobSegment(input.jobId);
    await rm(path.join(deps.tmpDir, seg), { recursive: true, force: true });
    const target = await resolveTarget(input);
    await withDuckDb(deps.duckdbPath, (conn) =>
      D.exec(conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...S.stagingParts(target))}`),
    );
    await withSf((sf) => removeFromStage(sf, snowflakeStagePath(stageOf(deps, input.source), seg)));
    return { removed: true };
  }

  async function tableSyncTransfer(input: TransferInput): Promise<TransferResult> {
    const t = input.source;
    const cols = input.columns;
    let wm: ColumnPlan | null = null;
    let key: ColumnPlan[] = [];
    if (input.strategy === 'incremental') {
      if (!input.watermarkColumn)
        throw floeError(
          NonRetryable.InvalidRequest,
          `incremental sync of ${S.displayName(t)} needs a watermark column`,
        );
      wm = pick(cols, input.watermarkColumn, 'watermark', t);
      if (!WATERMARK_FAMILIES.includes(wm.family))
        throw floeError(
          NonRetryable.InvalidRequest,
          `watermark column ${wm.name} of ${S.displayName(t)} has type ${wm.sourceType}; use a NUMBER, DATE or TIMESTAMP column`,
        );
      key = (input.primaryKey ?? []).map((k) => pick(cols, k, 'primary key', t));
    }
    // A full refresh of a table with a registered watermark column records the high-water mark of
    // what it loaded, so the next incremental sync starts there instead of re-reading everything.
    const fullRefreshWm =
      input.strategy === 'full' && input.watermarkColumn
        ? (cols.find((col) => col.name === input.watermarkColumn && WATERMARK_FAMILIES.includes(col.family)) ?? null)
        : null;
    const pkSingle =
      input.strategy === 'full'
        ? input.primaryKey?.length === 1
          ? pick(cols, input.primaryKey[0], 'primary key', t)
          : null
        : key.length === 1
          ? key[0]
          : null;
    if (pkSingle && !KEY_FAMILIES.includes(pkSingle.family))
      throw floeError(
        NonRetryable.InvalidRequest,
        `primary key ${pkSingle.name} of ${S.displayName(t)} has type ${pkSingle.sourceType}`,
      );

    // Read the state, then let go of the file: the stage method holds DuckDB only while loading, so
    // other processes (the API's sample endpoint, a user's duckdb CLI) can read it during unload/GET.
    const target = await resolveTarget(input);
    const state = await withDuckDb(deps.duckdbPath, (conn) => D.readState(conn, target, input.tableId));
    if (state.foreign)
      lg()?.warn(
        { table: S.displayName(t), target: D.stateKey(target) },
        'target was last written by another registration; it is replaced',
      );
    if (wm && state.watermarkColumn && state.watermarkColumn !== wm.name) {
      lg()?.warn(
        { table: S.displayName(t), from: state.watermarkColumn, to: wm.name },
        'watermark column changed; high-water mark reset',
      );
      state.highWaterMark = null;
    }
    const window: S.WindowFilter | null =
      wm && state.highWaterMark !== null
        ? key.length
          ? { watermark: wm, lower: subtractLag(wm, state.highWaterMark, input.lagSeconds ?? 0), inclusive: true }
          : { watermark: wm, lower: state.highWaterMark, inclusive: false }
        : null;
    const plan: RunPlan = {
      input,
      target,
      replaceTarget: state.foreign,
      cols,
      wm,
      key,
      pkSingle,
      window,
      oldHwm: state.highWaterMark,
      fullRefreshWm,
      counts: { rowsRead: 0, rowsInserted: 0, rowsUpdated: 0 },
    };
    if (input.method === 'stage') return transferByStage(deps, plan);
    return withDuckDb(deps.duckdbPath, (conn) => transferByStream(deps, { ...plan, conn }));
  }

  /** Exact COUNT(*) of the source (used by the workflow for auto method choice when stats lack a row count). */
  async function tableSyncCountSource(input: S.SourceTable): Promise<number> {
    return withSf((sf) => countRows(sf, input));
  }

  return { tableSyncDescribe, tableSyncTransfer, tableSyncCleanup, tableSyncRecordStatus, tableSyncCountSource };
}

/** The table sync activities, for `proxyActivities<TableSyncActivities>()` in the workflow (type import only). */
export type TableSyncActivities = ReturnType<typeof createTableSyncActivities>;

export type { DescribeInput, TableSyncDeps, TransferInput, TransferResult } from './types.js';
export type { SourceDescription } from './snowflake.js';
export type { TableStatusUpdate } from '../../jobs/table-sync/status.js';
