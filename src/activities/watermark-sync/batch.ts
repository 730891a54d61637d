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
import { openCsvWriter, type CsvWriter } from '../files.js';
import { sourceChunks, sourceQuery } from './source.js';
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
 * Rows of a page read from the source's cursor at a time (see `sourceChunks`), unless the deps say. Small
 * enough that a chunk's row objects die in V8's young generation: in the bench's 1M-row catch-up (pages of
 * 100,000) the worker peaked at 465 MiB with chunks of 2,000 rows, 769 MiB with 10,000, and 853–1,044 MiB
 * when each page was read whole; the catch-up's time did not grow (1.04× its floor against 1.11).
 */
const CHUNK_ROWS = 2_000;

/**
 * A page: one `batch_size` read from the source in (watermark, pk) order, its rows transformed and staged
 * locally as they arrive (by chunks of {@link CHUNK_ROWS}), so no page is ever held whole as row objects.
 */
interface Page {
  /** Source rows read (a full page has `batch_size`). */
  rows: number;
  /** The page's last row (where the next page starts), null when the page is empty. */
  last: TextRow | null;
  /** Rows staged (a transform may drop rows). */
  staged: number;
  /** The staged rows, when the page goes by binds (`auto`: while it stays within `bind_max_rows`). */
  binds: (string | null)[][] | null;
  /** The page's file (CSV, or Parquet converted from it), when it goes by files. */
  file: string | null;
}

/**
 * One batch: the rows after `after` in (watermark, pk) order, read in pages of `batch_size`, transformed,
 * loaded into one temporary staging table (binds, or one file per page PUT to a temporary stage and one
 * COPY INTO for all of them), then ONE MERGE into the target, then the stored position advances (one
 * statement with last_run, last_status, rows_processed). Heartbeats throughout.
 *
 * While pages come back full (a catch-up), the batch keeps reading until `merge_max_rows` rows are staged
 * (at least one page), reading the next page while the current one's file is PUT: a 1M-row
 * catch-up at batch_size 100,000 is ten reads but one COPY and one MERGE, where ten MERGEs into a growing
 * target each pay for the target (and the emulator's DuckDB runs a 100k-row MERGE, one row group, on one
 * thread). The watermark advances once per batch, so a crash re-reads at most `merge_max_rows` rows; with
 * `merge_max_rows` ≤ `batch_size` a batch is one page, as before. A page is read through a cursor, its
 * rows transformed and written to the page's file (or kept for binds) chunk by chunk as they arrive, and
 * its file is PUT while the next page is read: the rows held are about two chunks, not pages (see
 * {@link CHUNK_ROWS}).
 */
export async function runBatch(deps: WatermarkSyncActivityDeps, input: BatchInput): Promise<BatchResult> {
  const started = Date.now();
  const { table: t, plan } = input;
  const mergeMaxRows = Math.max(t.batchSize, t.mergeMaxRows ?? TABLE_DEFAULTS.mergeMaxRows);
  const hb = startHeartbeat({ phase: 'read', rows: 0, pages: 0 });
  const exprs = plan.columns.filter((c) => c.expr !== null).map((c) => ({ alias: c.name, expr: c.expr! }));
  const fn = t.transform?.kind === 'function' ? getTransform(t.transform.name).fn : null;
  const withDelete = plan.softDelete !== null;
  /** Staging rows in plan column order, + delete flag, + sequence (rank in (wm, pk) order across the batch). */
  const toStaged = (rows: readonly TextRow[], seqBase: number): (string | null)[][] => {
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

  const positionOf = (last: TextRow): SyncPosition => ({
    watermark: last[Q.WM_ALIAS]!,
    pk: plan.pk.map((_, i) => last[Q.PK_ALIAS(i)]!),
  });
  const suffix = randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();
  const targetCols = plan.columns.map((c) => c.target);
  const header = [...targetCols, ...(withDelete ? [Q.DEL_COL] : []), Q.SEQ_COL];
  const localDir = path.join(deps.tmpDir, suffix.toLowerCase());

  /**
   * Read the page after `after` (`batch_size` rows) and stage it locally as it arrives: its staged rows
   * are ranked from `seqBase`, and its file, if any, is `<localDir>/page-<index>`.
   */
  const readPage = async (after: SyncPosition | null, seqBase: number, index: number): Promise<Page> => {
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
    let binds: (string | null)[][] | null = t.loadMethod === 'files' ? null : [];
    let writer: CsvWriter | null = null;
    let csv: string | null = null;
    let read = 0;
    let staged = 0;
    try {
      const got = await sourceChunks<TextRow>(
        deps.sourcePool,
        t.source,
        sel.sql,
        sel.params,
        deps.readChunkRows ?? CHUNK_ROWS,
        async (chunk) => {
          const out = toStaged(chunk, seqBase + read);
          read += chunk.length;
          staged += out.length;
          if (binds && (t.loadMethod === 'binds' || binds.length + out.length <= t.bindMaxRows)) {
            for (const r of out) binds.push(r);
            return;
          }
          if (!writer) {
            await fs.promises.mkdir(localDir, { recursive: true });
            csv = path.join(localDir, `page-${String(index).padStart(5, '0')}.csv`);
            writer = openCsvWriter(csv);
            if (binds) await writer.write(binds);
            binds = null;
          }
          await writer.write(out);
        },
      );
      if (writer) await (writer as CsvWriter).end();
      const file = csv && t.fileFormat === 'parquet' ? await csvToParquet(csv, header) : csv;
      return { rows: got.rows, last: got.last, staged, binds, file };
    } catch (e) {
      (writer as CsvWriter | null)?.abort();
      throw e;
    }
  };

  try {
    // The page being staged; the next one is read while its file is PUT (below).
    let page = await readPage(input.after, 0, 0);
    if (page.rows === 0)
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
    const staging: [string, string, string] = [plan.target[0], plan.target[1], `FLOE_STG_${suffix}`];
    const stage: [string, string, string] = [plan.target[0], plan.target[1], `FLOE_WMS_${suffix}`];
    const stagePath = snowflakeStagePath(stage, 'batch');
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
      for (;;) {
        position = positionOf(page.last!);
        const full = page.rows === t.batchSize;
        if (!full) done = true;
        await deps.hooks?.afterPage?.({ source: t.source, pages: pages + 1, attempt: attempt() });
        rows += page.rows;
        pages++;
        hb.beat({ phase: 'load', rows, pages });
        const t0 = Date.now();
        if (page.binds && page.binds.length > 0) {
          stagedRows += page.binds.length;
          await settle();
          const ins = Q.insertStagingSql(staging, targetCols, withDelete);
          // Chunks keep each request's JSON moderate (binds travel inline).
          for (let i = 0; i < page.binds.length; i += 10_000)
            await sf.query(ins, page.binds.slice(i, i + 10_000) as never);
        } else if (page.file) {
          stagedRows += page.staged;
          if (files === 0) await sf.query(`CREATE TEMPORARY STAGE ${quoteSnowflakeName(...stage)}`);
          await settle();
          const file = page.file;
          const put = sf
            .query(
              `PUT 'file://${file.replaceAll("'", "\\'")}' ${stagePath} AUTO_COMPRESS = ${t.fileFormat === 'csv' ? 'TRUE' : 'FALSE'} OVERWRITE = TRUE`,
            )
            .then(() => fs.promises.rm(file, { force: true }));
          put.catch(() => undefined); // surfaces at the next settle()
          putting = put;
          files++;
        }
        phases.stage += Date.now() - t0;
        if (!full || rows + t.batchSize > mergeMaxRows) break;
        const t1 = Date.now();
        page = await readPage(position, rows, pages);
        phases.read += Date.now() - t1;
        hb.beat({ phase: 'read', rows, pages });
        // A cancelled run stops between pages (nothing is merged; the staging table and stage are temporary).
        throwIfCancelled();
        if (page.rows === 0) {
          done = true;
          break;
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
    await deps.sessions.withSession(deps.snowflake, load);

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
    // The page files not yet PUT (a failed or cancelled batch), also when a page failed to be written.
    await fs.promises.rm(localDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Convert a page's CSV file (columns in staging order) to `<same name>.parquet` next to it and remove
 * the CSV: DuckDB reads it with every column VARCHAR, named like the staging columns (`header`).
 * Returns the Parquet file's path. Throws DuckDB's error.
 */
async function csvToParquet(csv: string, header: string[]): Promise<string> {
  const pq = csv.replace(/\.csv$/, '.parquet');
  const cols = `{${header.map((h) => `${duckDbLiteral(h)}: 'VARCHAR'`).join(', ')}}`;
  await withDuckDb(':memory:', async (c) => {
    await c.run(
      `COPY (SELECT ${header.map(quoteDuckDbIdent).join(', ')} FROM read_csv(${duckDbLiteral(csv)}, header = false, quote = '"', escape = '"', nullstr = '\\N', columns = ${cols})) TO ${duckDbLiteral(pq)} (FORMAT PARQUET)`,
    );
  });
  await fs.promises.rm(csv, { force: true });
  return pq;
}
