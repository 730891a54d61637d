/**
 * The stream method of the transfer: snowflake-sdk rows (numbers, JSON and binary fetched as text)
 * → DuckDB appender into a VARCHAR landing table → typed INSERT (full refresh, into staging) or
 * MERGE/append (incremental) per batch, heartbeating a cursor. Paged reads (a single-column primary
 * key) resume from the cursor after a retry; a full refresh resumes from what its staging table holds.
 */
import { connectSnowflake } from '../../connectors/snowflake.js';
import { quoteDuckDbName } from '../../sql/quote.js';
import { typedSelect, type ColumnPlan } from '../../sql/typemap.js';
import { streamTextConverter, streamValueToText } from '../../sql/values.js';
import * as S from '../../jobs/table-sync/sql.js';
import { activityLogger, previousDetails, throwIfCancelled } from '../context.js';
import { startTransferHeartbeat } from './progress.js';
import { applyIncremental, countsOf, countsWrong, swapIn, writeIncrementalState } from './commit.js';
import * as D from './duckdb.js';
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
  await D.createLanding(c.conn, c.cols);
  let pending = 0;
  // `rowsLoaded` counts the rows appended but not yet applied too (`pending`): only an unpaged read has
  // such rows when it beats, and its retry starts over, so a resume never reads them as committed.
  const details = (): TransferDetails => ({
    phase: 'stream',
    rowsLoaded: rowsLoaded + pending,
    rowsTotal: sourceRows ?? undefined,
    bytes: 0,
    cursor: paged && cursor ? cursor : undefined,
    sourceRows: sourceRows ?? undefined,
    counts: full ? undefined : c.counts,
  });
  const hb = startTransferHeartbeat(details());
  const sf = await connectSnowflake(deps.snowflake);
  let appender = await c.conn.createAppender(D.LANDING, 'main', 'temp');
  let last: unknown[] | null = null;
  const wmIdx = c.wm ? c.cols.indexOf(c.wm) : -1;
  const pkIdx = c.pkSingle ? c.cols.indexOf(c.pkSingle) : -1;
  const toText = c.cols.map(streamTextConverter);

  const flush = async () => {
    appender.flushSync();
    appender.closeSync();
    if (pending > 0) {
      const typed = typedSelect(c.cols, 'text', D.landingRelation);
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
          const v = toText[i](row[i]);
          if (v === null) appender.appendNull();
          else appender.appendVarchar(v);
        }
        appender.endRow();
        last = row;
        got++;
        pending++;
        // Unpaged: everything lands first and is applied once (append mode must commit atomically);
        // progress is still reported per batch.
        if (pending % batchRows === 0) {
          if (paged) await flush();
          else hb.beat(details());
        }
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
