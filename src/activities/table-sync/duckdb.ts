/**
 * DuckDB side of the table sync: target creation and evolution, floe state (`_floe.state`, written in
 * the same transaction as the data it describes — dlt's pattern) and transactions.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteDuckDbName } from '../../sql/quote.js';
import { planEvolution, type ColumnPlan } from '../../sql/typemap.js';
import * as S from '../../jobs/table-sync/sql.js';
import { floeError, NonRetryable } from '../../errors.js';

/** Stored state of one target (`_floe.state` row), as seen by one registration. */
export interface TargetState {
  highWaterMark: string | null;
  watermarkColumn: string | null;
  lastJobId: string | null;
  /**
   * The row was written by another registration (another `table_id`): the target holds that
   * registration's rows, so its high-water mark is not this one's (the fields above are then null).
   */
  foreign: boolean;
}

/** Run SQL, discarding the result. */
export async function exec(conn: DuckDBConnection, sql: string, params?: unknown[]): Promise<void> {
  await conn.run(sql, params as never);
}

/** Run a DML statement (INSERT, MERGE, ...) and return the rows it changed, as DuckDB reports them. */
export async function execCount(conn: DuckDBConnection, sql: string): Promise<number> {
  return Number((await conn.run(sql)).rowsChanged);
}

/** First cell of the first row, or null. */
export async function scalar(conn: DuckDBConnection, sql: string, params?: unknown[]): Promise<unknown> {
  const r = await conn.runAndReadAll(sql, params as never);
  const rows = r.getRows();
  return rows.length ? rows[0][0] : null;
}

/** Run `fn` in one DuckDB transaction: COMMIT on success, ROLLBACK (and rethrow) on error. */
export async function inTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await exec(conn, 'BEGIN TRANSACTION');
  try {
    const out = await fn();
    await exec(conn, 'COMMIT');
    return out;
  } catch (e) {
    await exec(conn, 'ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Create the `_floe` schema and state table if missing. */
export async function ensureStateTable(conn: DuckDBConnection): Promise<void> {
  await exec(conn, S.createSchemaSql(S.STATE_SCHEMA));
  await exec(conn, S.createStateTableSql);
}

/** Key of a target in `_floe.state`: its quoted DuckDB name. */
export function stateKey(t: S.TargetTable): string {
  return quoteDuckDbName(...S.targetParts(t));
}

/**
 * Read a target's state for the registration `tableId`. The row is keyed by target and records the
 * registration that wrote it, so the high-water mark is keyed by target and source: a row written by
 * another registration reads as empty with `foreign: true`.
 */
export async function readState(conn: DuckDBConnection, t: S.TargetTable, tableId: string): Promise<TargetState> {
  await ensureStateTable(conn);
  const r = await conn.runAndReadAll(
    `SELECT high_water_mark, watermark_column, last_job_id, table_id FROM ${quoteDuckDbName(S.STATE_SCHEMA, 'state')} WHERE target = $1`,
    [stateKey(t)],
  );
  const row = r.getRows()[0];
  const empty = { highWaterMark: null, watermarkColumn: null, lastJobId: null };
  if (!row) return { ...empty, foreign: false };
  if (row[3] !== tableId) return { ...empty, foreign: true };
  return {
    highWaterMark: (row[0] as string | null) ?? null,
    watermarkColumn: (row[1] as string | null) ?? null,
    lastJobId: (row[2] as string | null) ?? null,
    foreign: false,
  };
}

/** Write a target's state (inside the caller's transaction). */
export async function writeState(
  conn: DuckDBConnection,
  t: S.TargetTable,
  s: {
    tableId: string;
    strategy: string;
    watermarkColumn: string | null;
    highWaterMark: string | null;
    jobId: string;
    rows: number;
  },
): Promise<void> {
  await exec(conn, S.upsertStateSql, [
    stateKey(t),
    s.tableId,
    s.strategy,
    s.watermarkColumn,
    s.highWaterMark,
    s.jobId,
    s.rows,
  ]);
}

/** Columns of an existing table (`duckdb_columns()`), or null when the table does not exist. */
export async function existingColumns(
  conn: DuckDBConnection,
  parts: readonly [string, string],
): Promise<{ name: string; type: string }[] | null> {
  const r = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index`,
    [parts[0], parts[1]],
  );
  const rows = r.getRows();
  return rows.length ? rows.map((x) => ({ name: String(x[0]), type: String(x[1]) })) : null;
}

/**
 * Create the target if missing, else evolve it: add new columns, widen BIGINT/DECIMAL precision.
 * With `replace` (the target holds another registration's rows) the table is dropped and created anew.
 * Throws SchemaMismatch (non-retryable) listing incompatible type changes; nothing is altered then.
 */
export async function createOrEvolveTarget(
  conn: DuckDBConnection,
  target: S.TargetTable,
  source: S.SourceTable,
  cols: readonly ColumnPlan[],
  replace = false,
): Promise<{ created: boolean; added: string[] }> {
  const parts = S.targetParts(target);
  await exec(conn, S.createSchemaSql(parts[0]));
  if (replace) await exec(conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...parts)}`);
  const have = await existingColumns(conn, parts);
  if (!have) {
    await exec(conn, S.createTableSql(parts, cols));
    return { created: true, added: [] };
  }
  const ev = planEvolution(have, cols);
  if (ev.conflicts.length) {
    throw floeError(
      NonRetryable.SchemaMismatch,
      `target ${quoteDuckDbName(...parts)} cannot take ${S.displayName(source)}: ${ev.conflicts.join('; ')}`,
    );
  }
  for (const c of ev.add) await exec(conn, S.addColumnSql(parts, c));
  for (const c of ev.widen) await exec(conn, S.widenColumnSql(parts, c));
  return { created: false, added: ev.add.map((c) => c.name) };
}

/** Count rows of a table. */
export async function countTable(conn: DuckDBConnection, parts: readonly string[]): Promise<number> {
  return Number(await scalar(conn, `SELECT count(*) FROM ${quoteDuckDbName(...parts)}`));
}
