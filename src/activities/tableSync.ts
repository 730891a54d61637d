/**
 * Activities of the table sync (Snowflake → DuckDB). Built by {@link createTableSyncActivities}
 * around a closure of dependencies, so credentials never travel in inputs.
 *
 * - `tableSyncDescribe`: schema + statistics (INFORMATION_SCHEMA), mirrored to `table_metadata`.
 * - `tableSyncTransfer`: moves the rows and commits them, in ONE activity so download and load run on
 *   the same host. Stage: CREATE STAGE IF NOT EXISTS → COPY INTO @stage/<job>/ (Parquet) →
 *   LIST → GET PARALLEL → one DuckDB transaction (`read_parquet` of all files, explicit casts) →
 *   REMOVE + local delete in `finally`. Stream: snowflake-sdk rows (numbers/JSON/binary as strings) →
 *   DuckDB appender into a VARCHAR landing table → typed INSERT/MERGE per batch, heartbeating a cursor.
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
import type pg from 'pg';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { connectSnowflake, type SnowflakeSession, type SnowflakeSettings } from '../connectors/snowflake.js';
import { withDuckDb } from '../connectors/duckdb.js';
import {
  createStage,
  getFromStage,
  jobSegment,
  listStage,
  removeFromStage,
  unloadToStage,
  DEFAULT_GET_PARALLEL,
  DEFAULT_UNLOAD_FILE_BYTES,
} from '../connectors/snowflake-stage.js';
import { quoteDuckDbName, snowflakeStagePath } from '../sql/quote.js';
import type { ColumnPlan } from '../sql/typemap.js';
import * as S from '../sql/tableSync.js';
import { compareValueText, streamValueToText, subtractLag, WATERMARK_FAMILIES, KEY_FAMILIES } from '../sql/values.js';
import { floeError, NonRetryable } from '../errors.js';
import { activityLogger, cancellable, previousDetails, startHeartbeat, throwIfCancelled } from './context.js';
import { countRows, describeSource, type SourceDescription } from './snowflake.js';
import * as D from './duckdb.js';
import { recordMetadata, recordStatus, registeredTarget, type TableStatusUpdate } from './postgres.js';
import type { SyncStrategy, TableSyncCounts } from '../jobs/tableSync.js';

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

/** Heartbeat details: what a retried attempt resumes from. */
interface TransferDetails {
  phase: 'unload' | 'download' | 'load' | 'stream';
  rowsLoaded: number;
  /** Stage: the unload of this job finished (files may still be on the stage). */
  unloaded?: { rows: number; bytes: number };
  /** Stream: last committed (watermark, key) or (key) texts. */
  cursor?: { watermark: string | null; key: string | null };
  /** Stream full refresh: the source's COUNT(*) reported by the first statement. */
  sourceRows?: number;
  /** Stream incremental: counts of the committed pages. */
  counts?: { rowsRead: number; rowsInserted: number; rowsUpdated: number };
}

function stageOf(deps: TableSyncDeps, src: S.SourceTable): [string, string, string] {
  return deps.stage ?? [deps.snowflake.database ?? src.database, deps.snowflake.schema ?? src.schema, 'FLOE_STAGE'];
}

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
    const ctx: RunCtx = {
      input,
      target,
      replaceTarget: state.foreign,
      conn: null as unknown as DuckDBConnection,
      cols,
      wm,
      key,
      pkSingle,
      window,
      oldHwm: state.highWaterMark,
      fullRefreshWm,
      counts: { rowsRead: 0, rowsInserted: 0, rowsUpdated: 0 },
    };
    if (input.method === 'stage') return transferByStage(ctx);
    return withDuckDb(deps.duckdbPath, (conn) => transferByStream({ ...ctx, conn }));
  }

  interface RunCtx {
    input: TransferInput;
    target: S.TargetTable;
    /** The target holds another registration's rows: incremental drops it before its first load. */
    replaceTarget: boolean;
    conn: DuckDBConnection;
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

  /** A VerificationFailed error naming the table and target (the caller's transaction rolls back). */
  function countsWrong(c: RunCtx, what: string): Error {
    return floeError(
      NonRetryable.VerificationFailed,
      `${c.input.strategy === 'full' ? 'full refresh' : 'incremental sync'} of ${S.displayName(c.input.source)} into ${D.stateKey(c.target)}: ${what}; nothing committed`,
    );
  }

  /** Max of the watermark over a relation, as canonical text, combined with the old high-water mark. */
  async function newHighWaterMark(c: RunCtx, relation: string): Promise<string | null> {
    if (!c.wm) return null;
    const v = await D.scalar(
      c.conn,
      `SELECT ${S.canonicalTextExpr(c.wm, `max(${quoteDuckDbName(c.wm.name)})`)} FROM ${relation}`,
    );
    const batchMax = v === null || v === undefined ? null : String(v);
    if (batchMax === null) return c.oldHwm;
    if (c.oldHwm === null) return batchMax;
    return compareValueText(c.wm, batchMax, c.oldHwm) > 0 ? batchMax : c.oldHwm;
  }

  /**
   * Apply a typed SELECT of `expectedRows` rows read from Snowflake to the target in the current
   * transaction: MERGE (deduped by key, latest watermark wins) or append; then write the state.
   * Verifies the counts first (throws VerificationFailed, the caller rolls back): rows that reached
   * DuckDB = rows read; rows the statement changed = distinct keys (a target whose primary key is not
   * unique would change more); target rows after = before + inserted, where inserted = keys minus
   * keys already in the target. Adds the batch to `c.counts`; returns the new high-water mark.
   */
  async function applyIncremental(c: RunCtx, typed: string, expectedRows: number): Promise<string | null> {
    const parts = S.targetParts(c.target);
    const read = 'temp.main."_floe_read"';
    const batch = 'temp.main."_floe_batch"';
    await D.exec(c.conn, `CREATE OR REPLACE TEMP TABLE "_floe_read" AS ${typed}`);
    const rowsRead = Number(await D.scalar(c.conn, `SELECT count(*) FROM ${read}`));
    if (rowsRead !== expectedRows)
      throw countsWrong(c, `read ${expectedRows} rows from Snowflake but ${rowsRead} reached DuckDB`);
    await D.exec(
      c.conn,
      `CREATE OR REPLACE TEMP TABLE "_floe_batch" AS ${c.key.length ? S.dedupSelect(`SELECT * FROM ${read}`, c.key, c.wm!) : `SELECT * FROM ${read}`}`,
    );
    const keys = Number(await D.scalar(c.conn, `SELECT count(*) FROM ${batch}`));
    const before = await D.countTable(c.conn, parts);
    const updated = c.key.length ? Number(await D.scalar(c.conn, S.matchedKeysSql(parts, c.key, batch))) : 0;
    const changed = await D.execCount(
      c.conn,
      c.key.length
        ? S.mergeSql(parts, c.cols, c.key, `SELECT * FROM ${batch}`)
        : S.insertSelectSql(parts, c.cols, `SELECT * FROM ${batch}`),
    );
    const after = await D.countTable(c.conn, parts);
    const inserted = keys - updated;
    if (changed !== keys) {
      throw countsWrong(
        c,
        `${c.key.length ? 'MERGE' : 'INSERT'} changed ${changed} target rows for ${keys} ${c.key.length ? `distinct keys (the target's primary key ${c.key.map((k) => k.name).join(', ')} is not unique)` : 'rows'}`,
      );
    }
    if (after !== before + inserted)
      throw countsWrong(c, `the target went from ${before} to ${after} rows, but ${inserted} rows were new`);
    const hwm = await newHighWaterMark(c, batch);
    await D.writeState(c.conn, c.target, {
      tableId: c.input.tableId,
      strategy: 'incremental',
      watermarkColumn: c.wm!.name,
      highWaterMark: hwm,
      jobId: c.input.jobId,
      rows: after,
    });
    await D.exec(c.conn, `DROP TABLE ${batch}`);
    await D.exec(c.conn, `DROP TABLE ${read}`);
    c.oldHwm = hwm;
    c.counts.rowsRead += rowsRead;
    c.counts.rowsInserted += inserted;
    c.counts.rowsUpdated += updated;
    return hwm;
  }

  /**
   * Full refresh: swap staging in for the target (DROP + RENAME) with the state, in one transaction,
   * after checking that staging holds exactly the `sourceRows` the source had in the snapshot read.
   * Returns the target's row count and the high-water mark recorded (max of the registered watermark
   * column over the loaded rows, or null without one).
   */
  async function swapIn(c: RunCtx, sourceRows: number): Promise<{ rows: number; hwm: string | null }> {
    const staging = S.stagingParts(c.target);
    const target = S.targetParts(c.target);
    return D.inTransaction(c.conn, async () => {
      const n = await D.countTable(c.conn, staging);
      if (n !== sourceRows) throw countsWrong(c, `loaded ${n} rows but the source had ${sourceRows}`);
      const wm = c.fullRefreshWm;
      const hwm = wm ? await newHighWaterMark({ ...c, wm, oldHwm: null }, quoteDuckDbName(...staging)) : null;
      await D.exec(c.conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...target)}`);
      await D.exec(c.conn, `ALTER TABLE ${quoteDuckDbName(...staging)} RENAME TO ${quoteDuckDbName(target[1])}`);
      await D.writeState(c.conn, c.target, {
        tableId: c.input.tableId,
        strategy: 'full',
        watermarkColumn: wm?.name ?? null,
        highWaterMark: hwm,
        jobId: c.input.jobId,
        rows: n,
      });
      return { rows: n, hwm };
    });
  }

  /** The counts of a run: full refresh from the swap, incremental from `c.counts`. */
  function countsOf(c: RunCtx, rowsInTarget: number, sourceRows: number | null): TableSyncCounts {
    return c.input.strategy === 'full'
      ? { sourceRows, rowsRead: rowsInTarget, rowsInserted: rowsInTarget, rowsUpdated: 0, rowsInTarget }
      : { sourceRows: null, ...c.counts, rowsInTarget };
  }

  async function transferByStage(c: RunCtx): Promise<TransferResult> {
    const t = c.input.source;
    const seg = jobSegment(c.input.jobId);
    const stagePath = snowflakeStagePath(stageOf(deps, t), seg);
    const localDir = path.join(deps.tmpDir, seg);
    const prev = previousDetails<TransferDetails>();
    const hb = startHeartbeat<TransferDetails>({ phase: 'unload', rowsLoaded: 0, unloaded: prev?.unloaded });
    const sf = await connectSnowflake(deps.snowflake);
    try {
      await createStage(sf, stageOf(deps, t));
      let unloaded = prev?.unloaded;
      let files = unloaded ? await listStage(sf, stagePath) : [];
      if (!unloaded || (files.length === 0 && unloaded.rows > 0)) {
        await removeFromStage(sf, stagePath);
        const select = S.unloadSelect(t, c.cols, S.whereClause(c.window));
        const out = await cancellable(
          unloadToStage(sf, stagePath, select, deps.maxFileSizeBytes ?? DEFAULT_UNLOAD_FILE_BYTES),
        );
        unloaded = { rows: out.rowsUnloaded, bytes: out.outputBytes };
        hb.beat({ phase: 'download', rowsLoaded: 0, unloaded });
        files = await listStage(sf, stagePath);
      } else {
        lg()?.info({ stagePath, files: files.length }, 'resuming after unload');
      }
      throwIfCancelled();
      const bytes = files.reduce((a, f) => a + f.size, 0);
      const local = await cancellable(
        getFromStage(sf, stagePath, files, localDir, deps.getParallel ?? DEFAULT_GET_PARALLEL),
      );
      throwIfCancelled();
      hb.beat({ phase: 'load', rowsLoaded: 0, unloaded });
      const loaded = await withDuckDb(deps.duckdbPath, async (conn) => {
        c.conn = conn;
        const typed = local.length ? S.typedSelect(c.cols, 'parquet', S.readParquetSource(local)) : null;
        let rowsInTarget: number;
        let watermark: string | null;
        if (c.input.strategy === 'full') {
          const staging = S.stagingParts(c.target);
          await D.exec(c.conn, S.createSchemaSql(staging[0]));
          await D.exec(c.conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`);
          await D.exec(c.conn, S.createTableSql(staging, c.cols));
          try {
            if (typed) await D.exec(c.conn, S.insertSelectSql(staging, c.cols, typed));
            throwIfCancelled();
            ({ rows: rowsInTarget, hwm: watermark } = await swapIn(c, unloaded.rows));
          } catch (e) {
            await D.exec(c.conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`).catch(() => undefined);
            throw e;
          }
        } else {
          const r = await D.inTransaction(c.conn, async () => {
            await D.createOrEvolveTarget(c.conn, c.target, t, c.cols, c.replaceTarget);
            if (!typed && unloaded.rows > 0)
              throw countsWrong(c, `the unload reported ${unloaded.rows} rows but no file reached DuckDB`);
            const hwm = typed ? await applyIncremental(c, typed, unloaded.rows) : c.oldHwm;
            if (!typed) {
              await D.writeState(c.conn, c.target, {
                tableId: c.input.tableId,
                strategy: 'incremental',
                watermarkColumn: c.wm!.name,
                highWaterMark: hwm,
                jobId: c.input.jobId,
                rows: await D.countTable(c.conn, S.targetParts(c.target)),
              });
            }
            return { hwm, n: await D.countTable(c.conn, S.targetParts(c.target)) };
          });
          rowsInTarget = r.n;
          watermark = r.hwm;
        }
        return { rowsInTarget, watermark };
      });
      const { rowsInTarget, watermark } = loaded;
      hb.beat({ phase: 'load', rowsLoaded: unloaded.rows, unloaded });
      return {
        ...countsOf(c, rowsInTarget, unloaded.rows),
        bytes,
        files: local.length,
        watermark,
        method: 'stage',
        target: D.stateKey(c.target),
      };
    } finally {
      hb.stop();
      await rm(localDir, { recursive: true, force: true }).catch(() => undefined);
      await removeFromStage(sf, stagePath).catch((e) =>
        lg()?.warn({ err: (e as Error).message, stagePath }, 'REMOVE failed'),
      );
      await sf.close();
    }
  }

  async function transferByStream(c: RunCtx): Promise<TransferResult> {
    const t = c.input.source;
    const batchRows = Math.max(1, c.input.batchRows ?? 50_000);
    const prev = previousDetails<TransferDetails>();
    const full = c.input.strategy === 'full';
    // Paging (resumable): full refresh with a single-column key, or incremental with a single-column key.
    const paged = c.pkSingle !== null && (full || c.key.length === 1);
    const orderBy: ColumnPlan[] = full ? (c.pkSingle ? [c.pkSingle] : []) : [c.wm!, ...c.key];
    const staging = S.stagingParts(c.target);
    const target = S.targetParts(c.target);
    let cursor = paged && prev?.cursor ? prev.cursor : null;
    let rowsLoaded = cursor ? prev!.rowsLoaded : 0;
    // Full refresh: every statement also reads the source's COUNT(*) (same statement, same snapshot);
    // all must agree, and the staging table must end with exactly that many rows.
    let sourceRows: number | null = cursor ? (prev?.sourceRows ?? null) : null;
    // Incremental: a resumed attempt carries on the counts of the pages committed before it.
    if (cursor && prev?.counts) c.counts = { ...prev.counts };

    if (full) {
      const stagingExists = (await D.existingColumns(c.conn, staging)) !== null;
      if (cursor && stagingExists) {
        // Resume from what the staging table holds (pages are ordered by the key, so max(key) and
        // count(*) are exactly what was committed, even if the last heartbeat was lost).
        const r = await c.conn.runAndReadAll(
          `SELECT ${S.canonicalTextExpr(c.pkSingle!, `max(${quoteDuckDbName(c.pkSingle!.name)})`)}, count(*) FROM ${quoteDuckDbName(...staging)}`,
        );
        const [maxKey, n] = r.getRows()[0];
        rowsLoaded = Number(n);
        cursor = maxKey === null ? null : { watermark: null, key: String(maxKey) };
        lg()?.info({ table: S.displayName(t), rowsLoaded }, 'resuming full refresh stream from staging');
      } else {
        cursor = null;
        rowsLoaded = 0;
        await D.exec(c.conn, S.createSchemaSql(staging[0]));
        await D.exec(c.conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`);
        await D.exec(c.conn, S.createTableSql(staging, c.cols));
      }
    } else {
      await D.inTransaction(c.conn, () => D.createOrEvolveTarget(c.conn, c.target, t, c.cols, c.replaceTarget));
    }
    await D.createLanding(c.conn, c.cols);
    const details = (): TransferDetails => ({
      phase: 'stream',
      rowsLoaded,
      cursor: paged && cursor ? cursor : undefined,
      sourceRows: sourceRows ?? undefined,
      counts: full ? undefined : c.counts,
    });
    const hb = startHeartbeat<TransferDetails>(details());
    const sf = await connectSnowflake(deps.snowflake);
    let pending = 0;
    let appender = await c.conn.createAppender(D.LANDING, 'main', 'temp');
    let last: unknown[] | null = null;
    const wmIdx = c.wm ? c.cols.indexOf(c.wm) : -1;
    const pkIdx = c.pkSingle ? c.cols.indexOf(c.pkSingle) : -1;

    const flush = async () => {
      appender.flushSync();
      appender.closeSync();
      if (pending > 0) {
        const typed = S.typedSelect(c.cols, 'text', D.landingRelation);
        if (full) await D.exec(c.conn, S.insertSelectSql(staging, c.cols, typed));
        else await D.inTransaction(c.conn, () => applyIncremental(c, typed, pending));
        await D.exec(c.conn, `DELETE FROM ${D.landingRelation}`);
        rowsLoaded += pending;
        pending = 0;
        if (paged && last) {
          cursor = {
            watermark: c.wm && !full ? streamValueToText(c.wm, last[wmIdx]) : null,
            key: streamValueToText(c.pkSingle!, last[pkIdx]),
          };
        }
        hb.beat(details());
      }
      appender = await c.conn.createAppender(D.LANDING, 'main', 'temp');
    };

    try {
      for (;;) {
        throwIfCancelled();
        let where = S.whereClause(c.window, null);
        if (paged && cursor) {
          const cur = full
            ? S.whereClause(null, { watermark: c.pkSingle!, key: null, afterWatermark: cursor.key!, afterKey: null })
            : S.whereClause(null, {
                watermark: c.wm!,
                key: c.pkSingle,
                afterWatermark: cursor.watermark!,
                afterKey: cursor.key,
              });
          where = where ? `${where} AND ${cur}` : cur;
        }
        const sql = S.streamSelect(t, c.cols, {
          where,
          orderBy,
          limit: paged ? batchRows : undefined,
          countSource: full,
        });
        const rows = sf.stream(sql, undefined, { fetchAsString: ['Number', 'JSON', 'Buffer'], rowMode: 'array' });
        let got = 0;
        const n = c.cols.length;
        for await (const row of rows as AsyncIterable<unknown[]>) {
          if (full && got === 0) {
            const counted = Number(row[n]);
            if (sourceRows !== null && counted !== sourceRows) {
              throw countsWrong(
                c,
                `the source's COUNT(*) went from ${sourceRows} to ${counted} between two pages of the read (rows were added or removed during the sync)`,
              );
            }
            sourceRows = counted;
          }
          for (let i = 0; i < n; i++) {
            const v = streamValueToText(c.cols[i], row[i]);
            if (v === null) appender.appendNull();
            else appender.appendVarchar(v);
          }
          appender.endRow();
          last = row;
          got++;
          pending++;
          // Unpaged: everything lands first and is applied once (append mode must commit atomically).
          if (paged && pending >= batchRows) await flush();
        }
        if (!paged) break;
        if (pending) await flush();
        if (got < batchRows) break;
      }
      await flush();
      let rowsInTarget: number;
      let watermark: string | null = null;
      // No row at all: the (first) statement saw an empty table.
      if (full) ({ rows: rowsInTarget, hwm: watermark } = await swapIn(c, sourceRows ?? 0));
      else {
        watermark = c.oldHwm;
        rowsInTarget = await D.countTable(c.conn, target);
        if (rowsLoaded === 0) {
          await D.writeState(c.conn, c.target, {
            tableId: c.input.tableId,
            strategy: 'incremental',
            watermarkColumn: c.wm!.name,
            highWaterMark: watermark,
            jobId: c.input.jobId,
            rows: rowsInTarget,
          });
        }
      }
      return {
        ...countsOf(c, rowsInTarget, sourceRows ?? 0),
        bytes: 0,
        files: 0,
        watermark,
        method: 'stream',
        target: D.stateKey(c.target),
      };
    } catch (e) {
      // Keep the staging table only when a retry can resume into it (paged full refresh).
      if (full && !(paged && cursor))
        await D.exec(c.conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`).catch(() => undefined);
      throw e;
    } finally {
      hb.stop();
      try {
        appender.closeSync();
      } catch {
        /* already closed */
      }
      await D.exec(c.conn, `DROP TABLE IF EXISTS ${D.landingRelation}`).catch(() => undefined);
      await sf.close();
    }
  }

  /** Exact COUNT(*) of the source (used by the workflow for auto method choice when stats lack a row count). */
  async function tableSyncCountSource(input: S.SourceTable): Promise<number> {
    return withSf((sf) => countRows(sf, input));
  }

  return { tableSyncDescribe, tableSyncTransfer, tableSyncCleanup, tableSyncRecordStatus, tableSyncCountSource };
}
