/**
 * The stream method of the transfer: snowflake-sdk rows (every value but a BOOLEAN fetched as text)
 * → a batch's texts, column by column → one statement per batch (landing.ts): a typed INSERT into
 * staging (full refresh), or an INSERT into a VARCHAR landing table then MERGE/append (incremental),
 * heartbeating a cursor. Paged reads (a single-column primary key) resume from the cursor after a
 * retry; a full refresh resumes from what its staging table holds.
 *
 * Reading and loading overlap: while DuckDB loads and applies a batch on its own threads, this thread
 * decodes the driver's next rows. A batch is loaded only once the one before it has committed, so
 * batches commit in order, and the cursor a heartbeat carries is always that of the last committed
 * batch.
 */
import { connectSnowflake, type SnowflakeSession } from '../../connectors/snowflake.js';
import { quoteDuckDbName } from '../../sql/quote.js';
import { typedSelect, type ColumnPlan } from '../../sql/typemap.js';
import { streamCellText, streamValueToText } from '../../sql/values.js';
import * as S from '../../jobs/table-sync/sql.js';
import { activityLogger, previousDetails, throwIfCancelled } from '../context.js';
import { startTransferHeartbeat } from './progress.js';
import { applyIncremental, countsOf, countsWrong, swapIn, writeIncrementalState } from './commit.js';
import * as D from './duckdb.js';
import { attachLanding, loadBatch, type LandingColumns } from './landing.js';
import type { RunCtx, TableSyncDeps, TransferDetails, TransferResult } from './types.js';

/** Move the rows of `c` by streaming and commit them (see the module comment). */
export async function transferByStream(deps: TableSyncDeps, c: RunCtx): Promise<TransferResult> {
  const lg = () => activityLogger(deps.logger);
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
  const landing = await attachLanding(c.conn, c.cols);
  // Rows read and not yet handed over to be applied, and rows of the batch being applied.
  let pending = 0;
  let applyingRows = 0;
  // Paged, a heartbeat carries only committed rows with the committed cursor (what a retry resumes
  // from). Unpaged, it also counts the rows read but not yet committed: an unpaged retry starts over,
  // so a resume never reads them as committed.
  const details = (): TransferDetails => ({
    phase: 'stream',
    rowsLoaded: rowsLoaded + (paged ? 0 : applyingRows + pending),
    rowsTotal: sourceRows ?? undefined,
    bytes: 0,
    cursor: paged && cursor ? cursor : undefined,
    sourceRows: sourceRows ?? undefined,
    counts: full ? undefined : c.counts,
  });
  const hb = startTransferHeartbeat(details());
  let sf: SnowflakeSession | null = null;
  // The load (and apply) of the previous batch in flight on `c.conn`, if any (its rejection is handled
  // where awaited).
  let applying: Promise<unknown> | null = null;
  const settle = async () => {
    const p = applying;
    applying = null;
    await p;
  };
  let last: unknown[] | null = null;
  const n = c.cols.length;
  const noRows = (): LandingColumns => Array.from({ length: n }, () => []);
  // The texts of the rows read and not yet loaded.
  let columns = noRows();
  /** Takes the texts out of `columns`, leaving it empty. */
  const takeColumns = () => {
    const batch = columns;
    columns = noRows();
    return batch;
  };
  /** Starts `work` on `c.conn`; call only with nothing in flight there. */
  const start = (work: Promise<unknown>) => {
    applying = work;
    applying.catch(() => undefined);
  };
  const wmIdx = c.wm ? c.cols.indexOf(c.wm) : -1;
  const pkIdx = c.pkSingle ? c.cols.indexOf(c.pkSingle) : -1;
  const cursorAt = (row: unknown[]): TransferDetails['cursor'] => ({
    watermark: c.wm && !full ? streamValueToText(c.wm, row[wmIdx]) : null,
    key: streamValueToText(c.pkSingle!, row[pkIdx]),
  });
  // Where the next page starts: the last row read (the committed `cursor` may trail it by one batch).
  let readCursor = cursor;

  /**
   * Types the rows of `batch` into the target and commits them: a full refresh inserts them into its
   * staging table; an incremental one lands them and applies every landed row (`rows` of them).
   */
  const apply = async (batch: LandingColumns, rows: number, at: TransferDetails['cursor'] | null) => {
    if (full) {
      await loadBatch(c.conn, landing, c.cols, batch, (relation) =>
        S.insertSelectSql(staging, c.cols, typedSelect(c.cols, 'text', relation)),
      );
    } else {
      await loadBatch(c.conn, landing, c.cols, batch);
      await D.inTransaction(c.conn, () => applyIncremental(c, typedSelect(c.cols, 'text', landing.relation), rows));
      await D.exec(c.conn, `DELETE FROM ${landing.relation}`);
    }
    rowsLoaded += rows;
    applyingRows = 0;
    if (at) cursor = at;
    hb.beat(details());
  };

  /**
   * Once the previous batch has committed, starts applying the rows read since (see `apply`). Does
   * not wait for the new batch's commit.
   */
  const handOver = async () => {
    throwIfCancelled();
    await settle();
    if (pending === 0) return;
    const at = paged && last ? cursorAt(last) : null;
    if (at) readCursor = at;
    const rows = (applyingRows = pending);
    pending = 0;
    start(apply(takeColumns(), rows, at));
  };

  try {
    sf = await connectSnowflake(deps.snowflake);
    for (;;) {
      throwIfCancelled();
      let where = S.whereClause(c.window, null);
      if (paged && readCursor) {
        const cur = full
          ? S.whereClause(null, { watermark: c.pkSingle!, key: null, afterWatermark: readCursor.key!, afterKey: null })
          : S.whereClause(null, {
              watermark: c.wm!,
              key: c.pkSingle,
              afterWatermark: readCursor.watermark!,
              afterKey: readCursor.key,
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
          const v = row[i];
          // A string is its own landing text (every family but BOOLEAN arrives as one: values.ts).
          columns[i].push(typeof v === 'string' ? v : streamCellText(c.cols[i], v));
        }
        last = row;
        got++;
        pending++;
        // A full refresh applies every batch (a failed unpaged one drops its staging table); an
        // unpaged incremental read lands everything first and applies it once (append mode must
        // commit atomically), reporting progress per batch.
        if (pending % batchRows === 0) {
          if (paged || full) await handOver();
          else {
            await settle();
            start(loadBatch(c.conn, landing, c.cols, takeColumns()));
            hb.beat(details());
          }
        }
      }
      if (!paged) break;
      if (pending) await handOver();
      if (got < batchRows) break;
    }
    await handOver();
    await settle();
    let rowsInTarget: number;
    let watermark: string | null = null;
    // No row at all: the (first) statement saw an empty table.
    if (full) ({ rows: rowsInTarget, hwm: watermark } = await swapIn(c, sourceRows ?? 0));
    else {
      watermark = c.oldHwm;
      rowsInTarget = await D.countTable(c.conn, target);
      if (rowsLoaded === 0) await writeIncrementalState(c, watermark, rowsInTarget);
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
    // A batch still being applied finishes (or fails) before anything else runs on its connection.
    await settle().catch(() => undefined);
    // Keep the staging table only when a retry can resume into it (paged full refresh).
    if (full && !(paged && cursor))
      await D.exec(c.conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`).catch(() => undefined);
    throw e;
  } finally {
    hb.stop();
    await landing.detach();
    await sf?.close();
  }
}
