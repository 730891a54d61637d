/**
 * Activities of the watermark sync (PostgreSQL → Snowflake, seed 002). Rows never leave an activity:
 * a batch is read, transformed, staged, merged and its watermark advanced inside
 * {@link createWatermarkSyncActivities}' `pgSyncBatch`, and only positions and counts go back to the
 * workflow.
 *
 * Idempotence: `pgSyncBatch` re-reads its batch from the position it was given, so a retry after a
 * crash anywhere (even between the MERGE and the watermark update) loads the same rows again, and
 * the MERGE (keyed, deduplicated) leaves the target as one copy of each row. The watermark update is
 * guarded by the table's epoch (src/pgsync/store.ts). The other activities are plain upserts.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Logger } from 'pino';
import { connectSnowflake, type SnowflakeSession, type SnowflakeSettings } from '../connectors/snowflake.js';
import { withDuckDb } from '../connectors/duckdb.js';
import { floeError, NonRetryable } from '../errors.js';
import type { LoadMethod, SyncPosition, TablePlanRef, WatermarkTableSpec } from '../jobs/watermarkSync.js';
import { duckDbLiteral, quoteDuckDbIdent, quoteSnowflakeName, snowflakeStagePath } from '../sql/quote.js';
import * as Q from '../pgsync/sql.js';
import * as store from '../pgsync/store.js';
import { getTransform, type TextRow } from '../pgsync/transforms.js';
import { startHeartbeat } from './context.js';
import { writeCsvFile } from './files.js';

/** Dependencies: both PostgreSQL pools and the Snowflake settings stay in the worker process. */
export interface WatermarkSyncDeps {
  /** Control-plane pool (sync_watermarks, sync_errors). */
  pool: pg.Pool;
  /** Source database pool (PG_SYNC_SOURCE_URL, default DATABASE_URL); may be the same pool. */
  sourcePool: pg.Pool;
  snowflake: SnowflakeSettings;
  /** Directory for the `files` method's local batch files (created on demand, emptied after each batch). */
  tmpDir: string;
  logger?: Logger;
  /** Test hooks (fault injection). `afterMerge` runs after the MERGE committed, before the watermark update. */
  hooks?: { afterMerge?: (info: { source: string; rows: number; attempt: number }) => Promise<void> | void };
}

/** Input of `pgSyncBeginTable`. */
export interface BeginInput {
  table: WatermarkTableSpec;
  workflowId: string;
}

/** Output of `pgSyncBeginTable`. */
export interface BeginResult {
  plan: TablePlanRef;
  /** Where this run starts (null: from the first row). */
  start: SyncPosition | null;
  /** Result of the cheap "any rows after start?" probe. */
  hasRows: boolean;
}

/** Input of `pgSyncBatch`. */
export interface BatchInput {
  table: WatermarkTableSpec;
  plan: TablePlanRef;
  after: SyncPosition | null;
  /** Rows merged by this run before this batch (for `rows_processed`). */
  runRowsBefore: number;
}

/** Output of `pgSyncBatch`. */
export interface BatchResult {
  rows: number;
  /** Position after the batch (unchanged when no rows). */
  position: SyncPosition | null;
  /** Fewer rows than batch_size: caught up. */
  done: boolean;
  method: LoadMethod | null;
  /** The epoch moved (reset/backfill): nothing was advanced; the run should stop. */
  superseded: boolean;
  /** Wall time of the batch in ms, and per phase: read (PostgreSQL + transform), stage (binds or file+PUT+COPY), merge, advance. */
  durationMs: number;
  phasesMs?: { read: number; stage: number; merge: number; advance: number };
}

const TEXT_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/** Map PostgreSQL errors by SQLSTATE class to floe's taxonomy (22 data → DataConversion, 23 constraint, 42 names). */
function classifyPg(err: unknown): unknown {
  const e = err as { code?: unknown; message?: string };
  if (!e || typeof e.code !== 'string' || e.code.length !== 5) return err;
  const msg = `PostgreSQL: ${e.message ?? ''} [${e.code}]`;
  if (e.code === '42P01') return floeError(NonRetryable.TableNotFound, msg);
  if (e.code === '42703') return floeError(NonRetryable.SchemaMismatch, msg);
  if (e.code.startsWith('22')) return floeError(NonRetryable.DataConversion, msg);
  if (e.code.startsWith('23')) return floeError(NonRetryable.SchemaMismatch, msg);
  if (e.code.startsWith('42')) return floeError(NonRetryable.InvalidRequest, msg);
  return err;
}

async function srcQuery<T extends pg.QueryResultRow = Record<string, string | null>>(
  pool: pg.Pool,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  try {
    const r = await pool.query<T>({ text: sql, values: params, types: TEXT_TYPES });
    return r.rows;
  } catch (err) {
    throw classifyPg(err);
  }
}

function attempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/** Target column name for a source column: exact, else the one case-insensitive match. */
function matchTarget(name: string, targets: string[]): string | null {
  if (targets.includes(name)) return name;
  const m = targets.filter((t) => t.toUpperCase() === name.toUpperCase());
  return m.length === 1 ? m[0] : null;
}

/** Build the watermark sync activities. */
export function createWatermarkSyncActivities(deps: WatermarkSyncDeps) {
  const log = (deps.logger ?? null)?.child({ component: 'pg-sync' });

  async function targetColumns(
    sf: SnowflakeSession,
    target: [string, string, string],
  ): Promise<{ name: string; sfType: string }[]> {
    const rows = await sf.query(Q.targetColumnsSql(target));
    return rows.map((r) => ({ name: String(r.COLUMN_NAME), sfType: Q.sfTypeOf(r as never) }));
  }

  async function pgLess(type: string, a: string, b: string): Promise<boolean> {
    const r = await srcQuery(deps.sourcePool, `SELECT ($1::${type} < $2::${type})::text AS lt`, [a, b]);
    return r[0].lt === 'true';
  }

  /**
   * Plan a table's run: check the source (table, watermark, pk, soft-delete columns and their types)
   * and the Snowflake target (created from the source's columns when `create_target` is set), map
   * columns, read the stored position and probe for rows after it. Also marks the run `running`.
   *
   * Throws TableNotFound (source or target missing), SchemaMismatch (a source column without a target
   * column, a missing key column), InvalidRequest (unsupported watermark type, bad names).
   */
  async function pgSyncBeginTable(input: BeginInput): Promise<BeginResult> {
    const t = input.table;
    const source = Q.sourceParts(t.source);
    const target = Q.targetParts(t.target, deps.snowflake.database);
    const row = await store.ensureWatermark(deps.pool, t.source, target.join('.'));
    await store.markRunning(deps.pool, t.source, input.workflowId);

    const cols = await srcQuery<Q.PgColumnRow & pg.QueryResultRow>(deps.sourcePool, Q.sourceColumnsSql, source);
    if (cols.length === 0)
      throw floeError(NonRetryable.TableNotFound, `source table ${t.source} does not exist or is not visible`);
    const byName = new Map(cols.map((c) => [c.column_name, c]));
    const need = (configName: string, field: string) => {
      const n = Q.sourceColumn(configName);
      const c = byName.get(n);
      if (!c)
        throw floeError(
          NonRetryable.SchemaMismatch,
          `${t.source}: ${field} column ${JSON.stringify(n)} does not exist in the source`,
        );
      return c;
    };
    const wmCol = need(t.watermarkColumn, 'watermark');
    if (!Q.isSupportedWatermark(wmCol.data_type)) {
      throw floeError(
        NonRetryable.InvalidRequest,
        `${t.source}: watermark column ${wmCol.column_name} has type ${wmCol.pg_type}; use a timestamp, timestamptz, date or integer/numeric column`,
      );
    }
    const pkCols = t.pk.map((k) => need(k, 'primary key'));
    const sd = t.softDeleteColumn ? need(t.softDeleteColumn, 'soft-delete') : null;

    // Row keys and their read expressions: source columns, then SQL-transform columns (replace or add).
    const exprs = new Map<string, string>();
    for (const c of cols)
      exprs.set(c.column_name, Q.pgTextExpr(`"${c.column_name.replaceAll('"', '""')}"`, c.data_type));
    let added: string[] = [];
    if (t.transform?.kind === 'sql') {
      for (const [k, expr] of Object.entries(t.transform.columns)) {
        const key = byName.has(k)
          ? k
          : (cols.find((c) => c.column_name.toUpperCase() === k.toUpperCase())?.column_name ?? k);
        exprs.set(key, `(${expr})::text`);
      }
    } else if (t.transform?.kind === 'function') {
      const fn = getTransform(t.transform.name);
      added = fn.addsColumns ?? [];
      for (const d of fn.dropsColumns ?? []) exprs.delete(d);
    }

    const sf = await connectSnowflake(deps.snowflake);
    let tcols: { name: string; sfType: string }[];
    try {
      tcols = await targetColumns(sf, target);
      if (tcols.length === 0 && t.createTarget) {
        const defs = cols.map((c) => ({
          name: Q.defaultTargetColumn(c.column_name),
          sfType: Q.snowflakeTypeFor(c),
          nullable: c.is_nullable === 'YES',
        }));
        await sf.query(
          Q.createTargetSql(
            target,
            defs,
            pkCols.map((c) => Q.defaultTargetColumn(c.column_name)),
          ),
        );
        tcols = await targetColumns(sf, target);
      }
    } finally {
      await sf.close();
    }
    if (tcols.length === 0)
      throw floeError(
        NonRetryable.TableNotFound,
        `target table ${target.join('.')} of ${t.source} does not exist (run discovery, or set create_target: true)`,
      );

    const tnames = tcols.map((c) => c.name);
    const planCols: TablePlanRef['columns'] = [];
    for (const [name, expr] of exprs) {
      const tn = matchTarget(name, tnames);
      if (!tn) {
        if (sd && name === sd.column_name) continue; // the flag travels separately; the target need not keep it
        throw floeError(
          NonRetryable.SchemaMismatch,
          `${t.source}: source column ${JSON.stringify(name)} has no column in target ${target.join('.')} (missing column)`,
        );
      }
      planCols.push({ name, expr, target: tn, sfType: tcols.find((c) => c.name === tn)!.sfType });
    }
    for (const a of added) {
      const tn = matchTarget(a, tnames);
      if (!tn)
        throw floeError(
          NonRetryable.SchemaMismatch,
          `${t.source}: column ${JSON.stringify(a)} added by transform ${t.transform?.kind === 'function' ? t.transform.name : ''} has no column in target ${target.join('.')}`,
        );
      planCols.push({ name: a, expr: null, target: tn, sfType: tcols.find((c) => c.name === tn)!.sfType });
    }
    const pkTargets = pkCols.map((c) => {
      const pc = planCols.find((p) => p.name === c.column_name);
      if (!pc)
        throw floeError(
          NonRetryable.SchemaMismatch,
          `${t.source}: primary key column ${c.column_name} is not loaded into the target`,
        );
      return pc.target;
    });

    let lagFloor: string | null = null;
    if (Q.isTimeWatermark(wmCol.data_type)) {
      const r = await srcQuery(
        deps.sourcePool,
        `SELECT (now() - make_interval(secs => $1::double precision))::${wmCol.pg_type}::text AS f`,
        [String(t.lagSeconds)],
      );
      lagFloor = r[0].f;
    }
    const plan: TablePlanRef = {
      epoch: row.epoch,
      columns: planCols,
      watermarkType: wmCol.pg_type,
      pkTypes: pkCols.map((c) => c.pg_type),
      lagFloor,
      target,
      softDelete: sd ? { column: sd.column_name, isBoolean: sd.data_type === 'boolean' } : null,
      source,
      watermarkColumn: wmCol.column_name,
      pk: pkCols.map((c) => c.column_name),
      pkTargets,
    };

    // Start: re-read from complete_before when it lies below the position (late commits may be there).
    let start = row.position;
    if (
      row.completeBefore !== null &&
      (row.position === null || (await pgLess(plan.watermarkType, row.completeBefore, row.position.watermark)))
    ) {
      start = { watermark: row.completeBefore, pk: null };
    }
    const ex = Q.existsAfterSql(source, plan.watermarkColumn, plan.pk, plan, start);
    const r = await srcQuery(deps.sourcePool, ex.sql, ex.params);
    return { plan, start, hasRows: r[0].exists === 'true' };
  }

  /**
   * One batch: read `batch_size` rows after `after` in (watermark, pk) order, transform, load into a
   * temporary staging table by binds or files, MERGE into the target, then advance the stored
   * position (one statement with last_run, last_status, rows_processed). Heartbeats throughout.
   */
  async function pgSyncBatch(input: BatchInput): Promise<BatchResult> {
    const started = Date.now();
    const { table: t, plan } = input;
    const hb = startHeartbeat({ phase: 'read', rows: 0 });
    try {
      const exprs = plan.columns.filter((c) => c.expr !== null).map((c) => ({ alias: c.name, expr: c.expr! }));
      const sel = Q.batchSelectSql(
        plan.source,
        plan.watermarkColumn,
        plan.pk,
        plan,
        exprs,
        plan.softDelete,
        input.after,
        t.batchSize,
      );
      const rows = await srcQuery(deps.sourcePool, sel.sql, sel.params);
      if (rows.length === 0)
        return {
          rows: 0,
          position: input.after,
          done: true,
          method: null,
          superseded: false,
          durationMs: Date.now() - started,
        };
      const last = rows[rows.length - 1];
      const position: SyncPosition = { watermark: last[Q.WM_ALIAS]!, pk: plan.pk.map((_, i) => last[Q.PK_ALIAS(i)]!) };

      // Staging rows in plan column order, + delete flag, + sequence (rank in (wm, pk) order).
      const fn = t.transform?.kind === 'function' ? getTransform(t.transform.name).fn : null;
      const staged: (string | null)[][] = [];
      const withDelete = plan.softDelete !== null;
      for (let i = 0; i < rows.length; i++) {
        let r: TextRow | null = rows[i];
        if (fn) {
          const src: TextRow = {};
          for (const [k, v] of Object.entries(rows[i])) if (!k.startsWith('__floe_')) src[k] = v;
          r = fn(src);
          if (r === null) continue;
        }
        const out = plan.columns.map((c) => r![c.name] ?? null);
        if (withDelete) out.push(rows[i][Q.DEL_ALIAS] ?? null);
        out.push(String(i));
        staged.push(out);
      }
      hb.beat({ phase: 'load', rows: rows.length });
      const tRead = Date.now();
      let tStage = tRead;

      const method: LoadMethod =
        t.loadMethod === 'auto' ? (staged.length <= t.bindMaxRows ? 'binds' : 'files') : t.loadMethod;
      const sf = await connectSnowflake(deps.snowflake);
      const suffix = randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();
      const staging: [string, string, string] = [plan.target[0], plan.target[1], `FLOE_STG_${suffix}`];
      const targetCols = plan.columns.map((c) => c.target);
      let localDir: string | null = null;
      try {
        await sf.query(Q.createStagingSql(staging, targetCols, withDelete));
        if (staged.length > 0) {
          if (method === 'binds') {
            const ins = Q.insertStagingSql(staging, targetCols, withDelete);
            // Chunks keep each request's JSON moderate (binds travel inline).
            for (let i = 0; i < staged.length; i += 10_000) await sf.query(ins, staged.slice(i, i + 10_000) as never);
          } else {
            localDir = path.join(deps.tmpDir, `${suffix.toLowerCase()}`);
            await fs.promises.mkdir(localDir, { recursive: true });
            const header = [...targetCols, ...(withDelete ? [Q.DEL_COL] : []), Q.SEQ_COL];
            const file = await writeBatchFile(localDir, staged, header, t.fileFormat);
            const stage: [string, string, string] = [plan.target[0], plan.target[1], `FLOE_PGS_${suffix}`];
            await sf.query(`CREATE TEMPORARY STAGE ${quoteSnowflakeName(...stage)}`);
            const stagePath = snowflakeStagePath(stage, 'batch');
            await sf.query(
              `PUT 'file://${file.replaceAll("'", "\\'")}' ${stagePath} AUTO_COMPRESS = ${t.fileFormat === 'csv' ? 'TRUE' : 'FALSE'} OVERWRITE = TRUE`,
            );
            await sf.query(Q.copyIntoStagingSql(staging, stagePath, t.fileFormat));
            await sf.query(`DROP STAGE IF EXISTS ${quoteSnowflakeName(...stage)}`);
          }
          hb.beat({ phase: 'merge', rows: rows.length });
          tStage = Date.now();
          await sf.query(Q.mergeSql(plan.target, staging, plan.columns, plan.pkTargets, withDelete));
        }
        await sf.query(`DROP TABLE IF EXISTS ${quoteSnowflakeName(...staging)}`).catch(() => undefined);
      } finally {
        await sf.close();
        if (localDir) await fs.promises.rm(localDir, { recursive: true, force: true }).catch(() => undefined);
      }

      const tMerge = Date.now();
      await deps.hooks?.afterMerge?.({ source: t.source, rows: rows.length, attempt: attempt() });

      // Everything at or below min(position, now - lag) is complete; numeric watermarks: position - lag.
      const cb =
        plan.lagFloor !== null
          ? await srcQuery(
              deps.sourcePool,
              `SELECT LEAST($1::${plan.watermarkType}, $2::${plan.watermarkType})::text AS c`,
              [position.watermark, plan.lagFloor],
            )
          : await srcQuery(
              deps.sourcePool,
              `SELECT ($1::${plan.watermarkType} - $2::numeric)::${plan.watermarkType}::text AS c`,
              [position.watermark, String(t.lagSeconds)],
            );
      const ok = await store.advanceWatermark(deps.pool, {
        sourceTable: t.source,
        epoch: plan.epoch,
        position,
        completeBefore: cb[0].c!,
        batchRows: rows.length,
        runRows: input.runRowsBefore + rows.length,
      });
      const end = Date.now();
      const phasesMs = { read: tRead - started, stage: tStage - tRead, merge: tMerge - tStage, advance: end - tMerge };
      log?.debug({ source: t.source, rows: rows.length, method, ms: end - started, phasesMs }, 'batch merged');
      return {
        rows: rows.length,
        position,
        done: rows.length < t.batchSize,
        method,
        superseded: !ok,
        durationMs: end - started,
        phasesMs,
      };
    } finally {
      hb.stop();
    }
  }

  /** Close a run as success / idle / superseded (counters, duration). */
  async function pgSyncFinishTable(input: {
    source: string;
    status: 'success' | 'idle' | 'superseded';
    rows: number;
    durationMs: number;
  }): Promise<void> {
    await store.finishRun(deps.pool, {
      sourceTable: input.source,
      status: input.status,
      rows: input.rows,
      durationSeconds: input.durationMs / 1000,
    });
  }

  /**
   * Record a failed batch (status `error`, last_error, a sync_errors row pointing at the batch, with
   * the primary keys of its first rows as the source holds them now). Returns its id. Given no plan
   * (the failure came before one was made), or when the source cannot be read, no keys are kept.
   */
  async function pgSyncRecordFailure(
    input: Omit<store.BatchFailure, 'durationSeconds' | 'sampleKeys'> & { durationMs: number; plan?: TablePlanRef },
  ): Promise<number> {
    const { durationMs, plan, ...rest } = input;
    let sampleKeys: string[][] | null = null;
    if (plan) {
      const q = Q.batchKeysSql(plan, input.after, Math.min(store.SAMPLE_KEYS_LIMIT, input.batchSize));
      sampleKeys = await deps.sourcePool.query<{ keys: string[] }>(q.sql, q.params).then(
        (r) => r.rows.map((row) => row.keys),
        (err: unknown) => {
          log?.warn(
            { source: input.sourceTable, err: (err as Error).message },
            'could not read the failing batch keys',
          );
          return null;
        },
      );
    }
    return store.recordFailure(deps.pool, { ...rest, sampleKeys, durationSeconds: durationMs / 1000 });
  }

  return { pgSyncBeginTable, pgSyncBatch, pgSyncFinishTable, pgSyncRecordFailure };
}

/**
 * Write a batch as CSV (columns in staging order) or Parquet (DuckDB converts the CSV; every column
 * VARCHAR, named like the staging columns). Returns the file path.
 */
async function writeBatchFile(
  dir: string,
  rows: (string | null)[][],
  header: string[],
  format: 'csv' | 'parquet',
): Promise<string> {
  const csv = path.join(dir, 'batch.csv');
  await writeCsvFile(csv, rows);
  if (format === 'csv') return csv;
  const pq = path.join(dir, 'batch.parquet');
  const cols = `{${header.map((h) => `${duckDbLiteral(h)}: 'VARCHAR'`).join(', ')}}`;
  await withDuckDb(':memory:', async (c) => {
    await c.run(
      `COPY (SELECT ${header.map(quoteDuckDbIdent).join(', ')} FROM read_csv(${duckDbLiteral(csv)}, header = false, quote = '"', escape = '"', nullstr = '\\N', columns = ${cols})) TO ${duckDbLiteral(pq)} (FORMAT PARQUET)`,
    );
  });
  await fs.promises.rm(csv, { force: true });
  return pq;
}

/** The activity interface (for `proxyActivities` in workflows; type import only). */
export type WatermarkSyncActivities = ReturnType<typeof createWatermarkSyncActivities>;
