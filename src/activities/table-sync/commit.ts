/**
 * The DuckDB side of committing a table sync: apply a batch (MERGE or append) or swap a full refresh
 * in, each after verifying the counts (a run whose numbers cannot be right fails with
 * VerificationFailed naming the table and the target, and commits nothing), with the target's state
 * row (`_floe.state`) written in the same transaction.
 */
import { quoteDuckDbName } from '../../sql/quote.js';
import { compareValueText } from '../../sql/values.js';
import { floeError, NonRetryable } from '../../errors.js';
import * as S from '../../jobs/table-sync/sql.js';
import type { TableSyncCounts } from '../../jobs/table-sync/contract.js';
import * as D from './duckdb.js';
import type { RunCtx, RunPlan } from './types.js';

/** A VerificationFailed error naming the table and target (the caller's transaction rolls back). */
export function countsWrong(c: RunPlan, what: string): Error {
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
export async function applyIncremental(c: RunCtx, typed: string, expectedRows: number): Promise<string | null> {
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
  await writeIncrementalState(c, hwm, after);
  await D.exec(c.conn, `DROP TABLE ${batch}`);
  await D.exec(c.conn, `DROP TABLE ${read}`);
  c.oldHwm = hwm;
  c.counts.rowsRead += rowsRead;
  c.counts.rowsInserted += inserted;
  c.counts.rowsUpdated += updated;
  return hwm;
}

/**
 * Write the target's `_floe.state` row after an incremental load (in the caller's transaction): the
 * watermark column, the high-water mark `hwm` (canonical text) and the target's `rows`.
 */
export async function writeIncrementalState(c: RunCtx, hwm: string | null, rows: number): Promise<void> {
  await D.writeState(c.conn, c.target, {
    tableId: c.input.tableId,
    strategy: 'incremental',
    watermarkColumn: c.wm!.name,
    highWaterMark: hwm,
    jobId: c.input.jobId,
    rows,
  });
}

/**
 * Full refresh: swap staging in for the target (DROP + RENAME) with the state, in one transaction,
 * after checking that staging holds exactly the `sourceRows` the source had in the snapshot read.
 * Returns the target's row count and the high-water mark recorded (max of the registered watermark
 * column over the loaded rows, or null without one).
 */
export async function swapIn(c: RunCtx, sourceRows: number): Promise<{ rows: number; hwm: string | null }> {
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
export function countsOf(c: RunPlan, rowsInTarget: number, sourceRows: number | null): TableSyncCounts {
  return c.input.strategy === 'full'
    ? { sourceRows, rowsRead: rowsInTarget, rowsInserted: rowsInTarget, rowsUpdated: 0, rowsInTarget }
    : { sourceRows: null, ...c.counts, rowsInTarget };
}
