/**
 * The batch activity: read `batch_size` rows after a position in (watermark, pk) order, transform,
 * stage, MERGE into the target, advance the stored position. Rows never leave the activity; only
 * positions and counts go back to the workflow.
 *
 * Idempotent: a retry re-reads its batch from the position it was given, so a retry after a crash
 * anywhere (even between the MERGE and the watermark update) loads the same rows again, and the
 * MERGE (keyed, deduplicated) leaves the target as one copy of each row. The position update is a
 * compare-and-set on the table's epoch and write counter (src/jobs/watermark-sync/store.ts): an attempt
 * whose batch another attempt already advanced writes nothing and hands the stored position on.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { SnowflakeSession } from '../../connectors/snowflake.js';
import { withDuckDb } from '../../connectors/duckdb.js';
import type { LoadMethod, SyncPosition } from '../../jobs/watermark-sync/contract.js';
import * as Q from '../../jobs/watermark-sync/sql.js';
import * as store from '../../jobs/watermark-sync/store.js';
import { getTransform, type TextRow } from '../../jobs/watermark-sync/transforms.js';
import { duckDbLiteral, quoteDuckDbIdent, quoteSnowflakeName, snowflakeStagePath } from '../../sql/quote.js';
import { startHeartbeat } from '../context.js';
import { writeCsvFile } from '../files.js';
import { sourceQuery } from './source.js';
import type { BatchInput, BatchResult, WatermarkSyncActivityDeps } from './types.js';

/** The current activity attempt (1 outside an activity, e.g. in unit tests). */
function attempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/**
 * One batch: read `batch_size` rows after `after` in (watermark, pk) order, transform, load into a
 * temporary staging table by binds or files, MERGE into the target, then advance the stored
 * position (one statement with last_run, last_status, rows_processed). Heartbeats throughout.
 */
export async function runBatch(deps: WatermarkSyncActivityDeps, input: BatchInput): Promise<BatchResult> {
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
    const rows = await sourceQuery(deps.sourcePool, t.source, sel.sql, sel.params);
    if (rows.length === 0)
      return {
        rows: 0,
        position: input.after,
        positionSeq: input.positionSeq,
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
    const suffix = randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();
    const staging: [string, string, string] = [plan.target[0], plan.target[1], `FLOE_STG_${suffix}`];
    const targetCols = plan.columns.map((c) => c.target);
    let localDir: string | null = null;
    // A reused session (the run's previous batch's, when idle): the staging table and stage are temporary
    // and dropped here; a batch that throws closes its session rather than return it.
    const load = async (sf: SnowflakeSession): Promise<void> => {
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
          const stage: [string, string, string] = [plan.target[0], plan.target[1], `FLOE_WMS_${suffix}`];
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
    };
    try {
      await deps.sessions.withSession(deps.snowflake, load);
    } finally {
      if (localDir) await fs.promises.rm(localDir, { recursive: true, force: true }).catch(() => undefined);
    }

    const tMerge = Date.now();
    await deps.hooks?.afterMerge?.({ source: t.source, rows: rows.length, attempt: attempt() });

    // Everything at or below min(position, now - lag) is complete; numeric watermarks: position - lag.
    const cb =
      plan.lagFloor !== null
        ? await sourceQuery(
            deps.sourcePool,
            t.source,
            `SELECT LEAST($1::${plan.watermarkType}, $2::${plan.watermarkType})::text AS c`,
            [position.watermark, plan.lagFloor],
          )
        : await sourceQuery(
            deps.sourcePool,
            t.source,
            `SELECT ($1::${plan.watermarkType} - $2::numeric)::${plan.watermarkType}::text AS c`,
            [position.watermark, String(t.lagSeconds)],
          );
    const advance = await store.advanceWatermark(deps.pool, {
      sourceTable: t.source,
      epoch: plan.epoch,
      positionSeq: input.positionSeq,
      position,
      completeBefore: cb[0].c!,
      batchRows: rows.length,
      runRows: input.runRowsBefore + rows.length,
    });
    const end = Date.now();
    const phasesMs = { read: tRead - started, stage: tStage - tRead, merge: tMerge - tStage, advance: end - tMerge };
    deps.logger?.debug(
      { source: t.source, rows: rows.length, method, ms: end - started, phasesMs, advance: advance.kind },
      'batch merged',
    );
    const next =
      advance.kind === 'taken'
        ? { position: advance.position, positionSeq: advance.positionSeq }
        : { position, positionSeq: advance.kind === 'advanced' ? advance.positionSeq : input.positionSeq };
    return {
      rows: rows.length,
      ...next,
      done: rows.length < t.batchSize,
      method,
      superseded: advance.kind === 'superseded',
      durationMs: end - started,
      phasesMs,
    };
  } finally {
    hb.stop();
  }
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
