/**
 * The stream method's landing table, and how a batch of rows reaches it: column by column, each
 * column's texts joined into one string that DuckDB splits again, so a batch costs one statement
 * instead of one appender call per cell on the worker's thread.
 */
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteDuckDbIdent } from '../../sql/quote.js';
import type { ColumnPlan } from '../../sql/typemap.js';

/** One batch's landing texts, column-major: `columns[i][r]` is column i of row r (null: SQL NULL). */
export type LandingColumns = (string | null)[][];

/**
 * The stream method's landing table: an all-VARCHAR table for the source's columns in an in-memory
 * database attached for one transfer under a name of its own, so its rows never reach the target
 * file's storage or its WAL.
 */
export interface Landing {
  /** Catalog (attached database) name, for `createAppender(table, 'main', catalog)`. */
  catalog: string;
  /** Table name. */
  table: string;
  /** The table as SQL (`"<catalog>".main."<table>"`). */
  relation: string;
  /** DETACH the database (its rows go with it). Never throws. */
  detach(): Promise<void>;
}

/** Attach a fresh {@link Landing} database with its table for `cols`. */
export async function attachLanding(conn: DuckDBConnection, cols: readonly ColumnPlan[]): Promise<Landing> {
  const catalog = `_floe_landing_${randomUUID().replaceAll('-', '')}`;
  const table = 'landing';
  await conn.run(`ATTACH ':memory:' AS ${quoteDuckDbIdent(catalog)}`);
  const landing: Landing = {
    catalog,
    table,
    relation: `${quoteDuckDbIdent(catalog)}.main.${quoteDuckDbIdent(table)}`,
    detach: () =>
      conn.run(`DETACH DATABASE IF EXISTS ${quoteDuckDbIdent(catalog)}`).then(
        () => undefined,
        () => undefined,
      ),
  };
  try {
    await conn.run(
      `CREATE TABLE ${landing.relation} (${cols.map((c) => `${quoteDuckDbIdent(c.name)} VARCHAR`).join(', ')})`,
    );
  } catch (e) {
    await landing.detach();
    throw e;
  }
  return landing;
}

/** Joins a column's texts: the unit separator (U+001F), which text rarely holds. */
const SEPARATOR = '\u001f';
/**
 * What a column's NULLs are joined as: the empty string when none of the column's texts is empty (it
 * reads back as NULL), else the record separator (U+001E) when no text is exactly that.
 */
const NULL_TEXTS = [
  { text: '', sql: "''" },
  { text: '\u001e', sql: 'chr(30)' },
] as const;

/**
 * The rows of `columns` as a relation DuckDB splits out of one VARCHAR parameter per column (the
 * column's texts joined by {@link SEPARATOR}): `(SELECT unnest(string_split($1, chr(31))) AS "A", ...)`
 * with the landing table's column names, and its parameters. Null when a column's NULLs cannot be
 * stood in for (see {@link NULL_TEXTS}). `unnest` of several lists in one SELECT zips them row by
 * row and pads the shorter ones with NULL (DuckDB docs, "unnest"), so a text holding the separator
 * shows as more rows than `columns` has.
 */
function splitRelation(cols: readonly ColumnPlan[], columns: LandingColumns): { sql: string; params: string[] } | null {
  const params: string[] = [];
  const exprs: string[] = [];
  for (const [i, col] of columns.entries()) {
    const split = `unnest(string_split($${i + 1}, chr(31)))`;
    const hasNull = col.includes(null);
    const nullText = hasNull ? NULL_TEXTS.find((t) => !col.includes(t.text)) : undefined;
    if (hasNull && !nullText) return null;
    // join() writes null as '': only another stand-in needs writing in.
    params.push((nullText && nullText.text !== '' ? col.map((v) => v ?? nullText.text) : col).join(SEPARATOR));
    exprs.push(`${nullText ? `nullif(${split}, ${nullText.sql})` : split} AS ${quoteDuckDbIdent(cols[i].name)}`);
  }
  return { sql: `(SELECT ${exprs.join(', ')})`, params };
}

/**
 * Load one batch of rows, `columns` (all of the same length, the batch's rows; column i is `cols[i]`):
 * `insert(relation)` is the INSERT that reads the rows from `relation` (all VARCHAR, named as `cols`);
 * without it, the rows are appended to the landing table. The INSERT reads the rows DuckDB splits out
 * of one parameter per column (on its own threads, one statement for the batch), in a transaction that
 * is rolled back when it inserted another number of rows than the batch has (a text held the
 * separator); then, and for a batch with a column whose NULLs nothing can stand for, the rows go
 * through DuckDB's appender into the landing table instead, cell by cell, and the INSERT reads them
 * from there (and empties it: with `insert`, the landing table must be empty beforehand). Must not run
 * inside a transaction of `conn`'s. Returns which way the rows went (`split`, or `appender` for the
 * fallback). Throws DuckDB's errors.
 */
export async function loadBatch(
  conn: DuckDBConnection,
  landing: Landing,
  cols: readonly ColumnPlan[],
  columns: LandingColumns,
  insert?: (relation: string) => string,
): Promise<'split' | 'appender'> {
  const rows = columns[0]?.length ?? 0;
  if (rows === 0) return 'split';
  const split = splitRelation(cols, columns);
  if (split) {
    const sql = insert ? insert(split.sql) : `INSERT INTO ${landing.relation} SELECT * FROM ${split.sql}`;
    await conn.run('BEGIN TRANSACTION');
    let inserted: boolean;
    try {
      inserted = Number((await conn.run(sql, split.params)).rowsChanged) === rows;
      await conn.run(inserted ? 'COMMIT' : 'ROLLBACK');
    } catch (e) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
    if (inserted) return 'split';
  }
  await appendColumns(conn, landing, columns);
  if (insert) {
    await conn.run(insert(landing.relation));
    await conn.run(`DELETE FROM ${landing.relation}`);
  }
  return 'appender';
}

/** Append the rows of `columns` to the landing table through DuckDB's appender, one call per cell. */
async function appendColumns(conn: DuckDBConnection, landing: Landing, columns: LandingColumns): Promise<void> {
  const appender = await conn.createAppender(landing.table, 'main', landing.catalog);
  try {
    const rows = columns[0].length;
    for (let r = 0; r < rows; r++) {
      for (const col of columns) {
        const text = col[r];
        if (text === null) appender.appendNull();
        else appender.appendVarchar(text);
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
