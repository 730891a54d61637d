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
import { TABLE_DEFAULTS } from '../../jobs/watermark-sync/config.js';
import { getTransform, type TextRow } from '../../jobs/watermark-sync/transforms.js';
import { duckDbLiteral, quoteDuckDbIdent, quoteSnowflakeName, snowflakeStagePath } from '../../sql/quote.js';
import { startHeartbeat, throwIfCancelled } from '../context.js';
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

/** A page read from the source: the rows of one `batch_size` read, in (watermark, pk) order. */
type Page = TextRow[];

/**
 * One batch: the rows after `after` in (watermark, pk) order, read in pages of `batch_size`, transformed,
 * loaded into one temporary staging table (binds, or one file per page PUT to a temporary stage and one
 * COPY INTO for all of them), then ONE MERGE into the target, then the stored position advances (one
 * statement with last_run, last_status, rows_processed). Heartbeats throughout.
 *
 * While pages come back full (a catch-up), the batch keeps reading until `merge_max_rows` rows are staged
 * (at least one page), reading the next page from PostgreSQL while the current one is staged: a 1M-row
 * catch-up at batch_size 100,000 is ten reads but one COPY and one MERGE, where ten MERGEs into a growing
 * target each pay for the target (and the emulator's DuckDB runs a 100k-row MERGE, one row group, on one
 * thread). The watermark advances once per batch, so a crash re-reads at most `merge_max_rows` rows; with
 * `merge_max_rows` ≤ `batch_size` a batch is one page, as before. The rows held are at most two pages (the
 * one being staged and the one being read; a 100,000-row page of six columns is ~40 MB of JS heap).
 */
export async function runBatch(deps: WatermarkSyncActivityDeps, input: BatchInput): Promise<BatchResult> {
  const started = Date.now();
  const { table: t, plan } = input;
  const mergeMaxRows = Math.max(t.batchSize, t.mergeMaxRows ?? TABLE_DEFAULTS.mergeMaxRows);
  const hb = startHeartbeat({ phase: 'read', rows: 0, pages: 0 });
  const exprs = plan.columns.filter((c) => c.expr !== null).map((c) => ({ alias: c.name, expr: c.expr! }));
  const readPage = (after: SyncPosition | null): Promise<Page> => {
    const sel = Q.batchSelectSql(
      plan.source,
      plan.watermarkColumn,
      plan.pk,
      plan,
      exprs,
      plan.softDelete,
      after,
      t.batchSize,
    );
    return sourceQuery(deps.sourcePool, t.source, sel.sql, sel.params);
  };
  const positionOf = (rows: Page): SyncPosition => {
    const last = rows[rows.length - 1];
    return { watermark: last[Q.WM_ALIAS]!, pk: plan.pk.map((_, i) => last[Q.PK_ALIAS(i)]!) };
  };
  const fn = t.transform?.kind === 'function' ? getTransform(t.transform.name).fn : null;
  const withDelete = plan.softDelete !== null;
  /** Staging rows in plan column order, + delete flag, + sequence (rank in (wm, pk) order across the batch). */
  const toStaged = (rows: Page, seqBase: number): (string | null)[][] => {
    const staged: (string | null)[][] = [];
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
      out.push(String(seqBase + i));
      staged.push(out);
    }
    return staged;
  };

  try {
    // The page being staged; the next one is read meanwhile (below).
    let page: Page | null = await readPage(input.after);
    if (page.length === 0)
      return {
        rows: 0,
        position: input.after,
        positionSeq: input.positionSeq,
        done: true,
        method: null,
        superseded: false,
        durationMs: Date.now() - started,
        pages: 0,
      };
    const phases = { read: Date.now() - started, stage: 0, merge: 0 };
    let rows = 0;
    let pages = 0;
    let position = input.after;
    let done = false;
    const suffix = randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();
    const staging: [string, string, string] = [plan.target[0], plan.target[1], `FLOE_STG_${suffix}`];
    const stage: [string, string, string] = [plan.target[0], plan.target[1], `FLOE_WMS_${suffix}`];
    const stagePath = snowflakeStagePath(stage, 'batch');
    const targetCols = plan.columns.map((c) => c.target);
    const header = [...targetCols, ...(withDelete ? [Q.DEL_COL] : []), Q.SEQ_COL];
    const localDir = path.join(deps.tmpDir, suffix.toLowerCase());
    let files = 0;
    let stagedRows = 0;
    // The PUT of the last page's file, under way while the next page is read and written: the session runs
    // one statement at a time, so every other statement waits for it (`settle`).
    let putting: Promise<void> | null = null;
    const settle = async (): Promise<void> => {
      const p = putting;
      putting = null;
      await p;
    };

    // A reused session (the run's previous batch's, when idle): the staging table and stage are temporary
    // and dropped here; a batch that throws closes its session rather than return it.
    const load = async (sf: SnowflakeSession): Promise<void> => {
      await sf.query(Q.createStagingSql(staging, targetCols, withDelete));
      while (page) {
        if (page.length === 0) {
          done = true;
          break;
        }
        position = positionOf(page);
        const full: boolean = page.length === t.batchSize;
        if (!full) done = true;
        await deps.hooks?.afterPage?.({ source: t.source, pages: pages + 1, attempt: attempt() });
        // The next page is read while this one is staged (a rejected read surfaces when awaited).
        const next: Promise<Page> | null =
          full && rows + page.length + t.batchSize <= mergeMaxRows ? readPage(position) : null;
        next?.catch(() => undefined);
        const staged = toStaged(page, rows);
        rows += page.length;
        pages++;
        page = null; // staged: let it go
        hb.beat({ phase: 'load', rows, pages });
        const t0 = Date.now();
        if (staged.length > 0) {
          stagedRows += staged.length;
          const pageMethod: LoadMethod =
            t.loadMethod === 'auto' ? (staged.length <= t.bindMaxRows ? 'binds' : 'files') : t.loadMethod;
          if (pageMethod === 'binds') {
            await settle();
            const ins = Q.insertStagingSql(staging, targetCols, withDelete);
            // Chunks keep each request's JSON moderate (binds travel inline).
            for (let i = 0; i < staged.length; i += 10_000) await sf.query(ins, staged.slice(i, i + 10_000) as never);
          } else {
            if (files === 0) {
              await fs.promises.mkdir(localDir, { recursive: true });
              await sf.query(`CREATE TEMPORARY STAGE ${quoteSnowflakeName(...stage)}`);
            }
            const file = await writeBatchFile(
              localDir,
              `page-${String(files).padStart(5, '0')}`,
              staged,
              header,
              t.fileFormat,
            );
            await settle();
            const put = sf
              .query(
                `PUT 'file://${file.replaceAll("'", "\\'")}' ${stagePath} AUTO_COMPRESS = ${t.fileFormat === 'csv' ? 'TRUE' : 'FALSE'} OVERWRITE = TRUE`,
              )
              .then(() => fs.promises.rm(file, { force: true }));
            put.catch(() => undefined); // surfaces at the next settle()
            putting = put;
            files++;
          }
        }
        phases.stage += Date.now() - t0;
        if (next) {
          const t1 = Date.now();
          page = await next;
          phases.read += Date.now() - t1;
          hb.beat({ phase: 'read', rows, pages });
          // A cancelled run stops between pages (nothing is merged; the staging table and stage are temporary).
          throwIfCancelled();
        }
      }
      if (stagedRows > 0) {
        const t0 = Date.now();
        await settle();
        if (files > 0) {
          await sf.query(Q.copyIntoStagingSql(staging, stagePath, t.fileFormat));
          await sf.query(`DROP STAGE IF EXISTS ${quoteSnowflakeName(...stage)}`);
        }
        hb.beat({ phase: 'merge', rows, pages });
        const t1 = Date.now();
        phases.stage += t1 - t0;
        await sf.query(Q.mergeSql(plan.target, staging, plan.columns, plan.pkTargets, withDelete));
        phases.merge = Date.now() - t1;
      }
      await sf.query(`DROP TABLE IF EXISTS ${quoteSnowflakeName(...staging)}`).catch(() => undefined);
    };
    try {
      await deps.sessions.withSession(deps.snowflake, load);
    } finally {
      // Also when the first file failed to be written (the directory exists, no file was counted).
      await fs.promises.rm(localDir, { recursive: true, force: true }).catch(() => undefined);
    }

    const method: LoadMethod = files > 0 || t.loadMethod === 'files' ? 'files' : 'binds';
    const tMerge = Date.now();
    await deps.hooks?.afterMerge?.({ source: t.source, rows, attempt: attempt() });
    const end = position!;

    // Everything at or below min(position, now - lag) is complete; numeric watermarks: position - lag.
    const cb =
      plan.lagFloor !== null
        ? await sourceQuery(
            deps.sourcePool,
            t.source,
            `SELECT LEAST($1::${plan.watermarkType}, $2::${plan.watermarkType})::text AS c`,
            [end.watermark, plan.lagFloor],
          )
        : await sourceQuery(
            deps.sourcePool,
            t.source,
            `SELECT ($1::${plan.watermarkType} - $2::numeric)::${plan.watermarkType}::text AS c`,
            [end.watermark, String(t.lagSeconds)],
          );
    const advance = await store.advanceWatermark(deps.pool, {
      sourceTable: t.source,
      epoch: plan.epoch,
      positionSeq: input.positionSeq,
      position: end,
      completeBefore: cb[0].c!,
      batchRows: rows,
      runRows: input.runRowsBefore + rows,
    });
    const finished = Date.now();
    const phasesMs = { ...phases, advance: finished - tMerge };
    deps.logger?.debug(
      { source: t.source, rows, pages, method, ms: finished - started, phasesMs, advance: advance.kind },
      'batch merged',
    );
    const next =
      advance.kind === 'taken'
        ? { position: advance.position, positionSeq: advance.positionSeq }
        : { position: end, positionSeq: advance.kind === 'advanced' ? advance.positionSeq : input.positionSeq };
    return {
      rows,
      ...next,
      done,
      method,
      superseded: advance.kind === 'superseded',
      durationMs: finished - started,
      phasesMs,
      pages,
    };
  } finally {
    hb.stop();
  }
}

/**
 * Write a page as `<dir>/<name>.csv` (columns in staging order) or `<name>.parquet` (DuckDB converts the
 * CSV; every column VARCHAR, named like the staging columns). Returns the file path.
 */
async function writeBatchFile(
  dir: string,
  name: string,
  rows: (string | null)[][],
  header: string[],
  format: 'csv' | 'parquet',
): Promise<string> {
  const csv = path.join(dir, `${name}.csv`);
  await writeCsvFile(csv, rows);
  if (format === 'csv') return csv;
  const pq = path.join(dir, `${name}.parquet`);
  const cols = `{${header.map((h) => `${duckDbLiteral(h)}: 'VARCHAR'`).join(', ')}}`;
  await withDuckDb(':memory:', async (c) => {
    await c.run(
      `COPY (SELECT ${header.map(quoteDuckDbIdent).join(', ')} FROM read_csv(${duckDbLiteral(csv)}, header = false, quote = '"', escape = '"', nullstr = '\\N', columns = ${cols})) TO ${duckDbLiteral(pq)} (FORMAT PARQUET)`,
    );
  });
  await fs.promises.rm(csv, { force: true });
  return pq;
}
