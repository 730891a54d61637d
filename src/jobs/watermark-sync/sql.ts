/**
 * SQL text of the watermark sync: batch reads on the PostgreSQL side, staging and MERGE on the
 * Snowflake side. Pure functions (no I/O); every identifier goes through src/sql/quote.ts and every
 * value is a bind parameter, except type names that PostgreSQL's own `format_type` produced (used in
 * casts of bind parameters) and Snowflake types read from INFORMATION_SCHEMA. test/unit/watermark-sync-sql.test.ts pins each generated text.
 */
import {
  quotePgIdent,
  quotePgName,
  quoteSnowflakeIdent,
  quoteSnowflakeName,
  snowflakeLiteral,
} from '../../sql/quote.js';
import type { SyncPosition, TablePlanRef } from './contract.js';
import { castFromText } from './typemap.js';

/** Internal aliases of the batch SELECT (never source column names: they start with `__floe_`). */
export const WM_ALIAS = '__floe_wm';
export const PK_ALIAS = (i: number) => `__floe_pk${i}`;
export const DEL_ALIAS = '__floe_del';
/** Alias of the source table in the batch SELECT. */
const SRC = '"__floe_src"';

/** The predicate and parameters selecting rows after `pos` in (watermark, pk) order; `$n` numbering starts at `first`. */
export function afterPredicate(
  wm: string,
  pk: string[],
  plan: Pick<TablePlanRef, 'watermarkType' | 'pkTypes'>,
  pos: SyncPosition | null,
  first = 1,
): { sql: string; params: string[] } {
  const qwm = quotePgIdent(wm);
  if (!pos) return { sql: `${qwm} IS NOT NULL`, params: [] };
  if (!pos.pk) return { sql: `${qwm} > $${first}::${plan.watermarkType}`, params: [pos.watermark] };
  const cols = [qwm, ...pk.map(quotePgIdent)];
  const vals = [`$${first}::${plan.watermarkType}`, ...pk.map((_, i) => `$${first + 1 + i}::${plan.pkTypes[i]}`)];
  // Row comparison: PostgreSQL compares (a, b) > (x, y) lexicographically and can use an index on (wm, pk).
  return { sql: `(${cols.join(', ')}) > (${vals.join(', ')})`, params: [pos.watermark, ...pos.pk] };
}

/** The "any new rows?" check: one index probe. */
export function existsAfterSql(
  source: [string, string],
  wm: string,
  pk: string[],
  plan: TablePlanRef,
  pos: SyncPosition | null,
): { sql: string; params: string[] } {
  const p = afterPredicate(wm, pk, plan, pos);
  return {
    sql: `SELECT EXISTS (SELECT 1 FROM ${quotePgName(...source)} WHERE ${p.sql})::text AS "exists"`,
    params: p.params,
  };
}

/**
 * The primary keys of the first `limit` rows after `pos` in (watermark, pk) order — the head of the
 * batch that starts there — each key as a list of text values in key order (`keys` column, a
 * PostgreSQL text[]).
 */
export function batchKeysSql(
  plan: Pick<TablePlanRef, 'source' | 'watermarkColumn' | 'pk' | 'watermarkType' | 'pkTypes'>,
  pos: SyncPosition | null,
  limit: number,
): { sql: string; params: string[] } {
  const p = afterPredicate(plan.watermarkColumn, plan.pk, plan, pos);
  // Qualified, so a key column named like the output column (`keys`) still orders by the table's column.
  const order = [plan.watermarkColumn, ...plan.pk].map((c) => `${SRC}.${quotePgIdent(c)}`).join(', ');
  return {
    sql: `SELECT ARRAY[${plan.pk.map((k) => `${quotePgIdent(k)}::text`).join(', ')}] AS keys FROM ${quotePgName(...plan.source)} AS ${SRC} WHERE ${p.sql} ORDER BY ${order} LIMIT ${Math.trunc(limit)}`,
    params: p.params,
  };
}

/**
 * One batch: `batchSize` rows after `pos`, ordered by (watermark, pk), each column as text
 * ({@link pgTextExpr} or the transform's SQL expression), plus the position columns as text in their
 * own types and the soft-delete flag.
 */
export function batchSelectSql(
  source: [string, string],
  wm: string,
  pk: string[],
  plan: TablePlanRef,
  exprs: { alias: string; expr: string }[],
  softDelete: { column: string; isBoolean: boolean } | null,
  pos: SyncPosition | null,
  batchSize: number,
): { sql: string; params: string[] } {
  const p = afterPredicate(wm, pk, plan, pos);
  const items = exprs.map((e) => `${e.expr} AS ${quotePgIdent(e.alias)}`);
  items.push(`${quotePgIdent(wm)}::text AS ${quotePgIdent(WM_ALIAS)}`);
  pk.forEach((k, i) => items.push(`${quotePgIdent(k)}::text AS ${quotePgIdent(PK_ALIAS(i))}`));
  if (softDelete) {
    const q = quotePgIdent(softDelete.column);
    items.push(
      `${softDelete.isBoolean ? `COALESCE(${q}, false)` : `${q} IS NOT NULL`}::text AS ${quotePgIdent(DEL_ALIAS)}`,
    );
  }
  // ORDER BY must name the table's columns, not the SELECT's text aliases of the same name
  // (PostgreSQL resolves a bare ORDER BY name to an output column first): qualify with the alias.
  const order = [wm, ...pk].map((c) => `${SRC}.${quotePgIdent(c)}`).join(', ');
  return {
    sql: `SELECT ${items.join(', ')} FROM ${quotePgName(...source)} AS ${SRC} WHERE ${p.sql} ORDER BY ${order} LIMIT ${Math.trunc(batchSize)}`,
    params: p.params,
  };
}

// ------------------------------------------------------------------ Snowflake staging + MERGE

/** Staging-only columns: the row's rank in (watermark, pk) order within the batch, and the delete flag. */
export const SEQ_COL = '_FLOE_SEQ';
export const DEL_COL = '_FLOE_DEL';

/** `CREATE TEMPORARY TABLE` for the staging table: every column VARCHAR (the MERGE casts). */
export function createStagingSql(staging: [string, string, string], targetCols: string[], withDelete: boolean): string {
  const cols = [...targetCols, ...(withDelete ? [DEL_COL] : []), SEQ_COL].map(
    (c) => `${quoteSnowflakeIdent(c)} VARCHAR`,
  );
  return `CREATE TEMPORARY TABLE ${quoteSnowflakeName(...staging)} (${cols.join(', ')})`;
}

/** Array-bind INSERT into the staging table (one `?` per column). */
export function insertStagingSql(staging: [string, string, string], targetCols: string[], withDelete: boolean): string {
  const cols = [...targetCols, ...(withDelete ? [DEL_COL] : []), SEQ_COL];
  return `INSERT INTO ${quoteSnowflakeName(...staging)} (${cols.map(quoteSnowflakeIdent).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
}

/** Local CSV format of the `files` method: every field quoted, NULL as an unquoted `\N`. */
export const CSV_FILE_FORMAT = `FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '"' NULL_IF = ('\\\\N') ESCAPE_UNENCLOSED_FIELD = NONE)`;

/** COPY INTO the staging table from a stage path (CSV in column order, or Parquet by column name). */
export function copyIntoStagingSql(
  staging: [string, string, string],
  stagePath: string,
  format: 'csv' | 'parquet',
): string {
  const ff =
    format === 'csv' ? CSV_FILE_FORMAT : 'FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_SENSITIVE';
  return `COPY INTO ${quoteSnowflakeName(...staging)} FROM ${stagePath} ${ff} PURGE = TRUE`;
}

/** Snowflake's INFORMATION_SCHEMA columns of a table, for the MERGE's casts. */
export function targetColumnsSql(target: [string, string, string]): string {
  return `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM ${quoteSnowflakeIdent(target[0])}.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ${snowflakeLiteral(target[1])} AND TABLE_NAME = ${snowflakeLiteral(target[2])} ORDER BY ORDINAL_POSITION`;
}

/**
 * The one MERGE of a batch: staging rows deduplicated per key (latest watermark wins: `_FLOE_SEQ` is
 * the row's rank in (watermark, pk) order, so `ORDER BY _FLOE_SEQ DESC` is `ORDER BY wm DESC, pk DESC`),
 * then update matched keys, insert new ones, and with a soft-delete flag delete matched keys whose
 * flag is set (and never insert them).
 */
export function mergeSql(
  target: [string, string, string],
  staging: [string, string, string],
  cols: { target: string; sfType: string }[],
  pkTargets: string[],
  withDelete: boolean,
): string {
  const q = quoteSnowflakeIdent;
  const sv = (c: { target: string; sfType: string }) => castFromText(`s.${q(c.target)}`, c.sfType);
  const byName = new Map(cols.map((c) => [c.target, c]));
  const on = pkTargets.map((k) => `t.${q(k)} = ${sv(byName.get(k)!)}`).join(' AND ');
  const partition = pkTargets.map((k) => q(k)).join(', ');
  const nonKey = cols.filter((c) => !pkTargets.includes(c.target));
  const del = `s.${q(DEL_COL)} = 'true'`;
  const lines = [
    `MERGE INTO ${quoteSnowflakeName(...target)} AS t`,
    `USING (SELECT * FROM ${quoteSnowflakeName(...staging)} QUALIFY ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY ${q(SEQ_COL)}::NUMBER(38,0) DESC) = 1) AS s`,
    `ON ${on}`,
  ];
  if (withDelete) lines.push(`WHEN MATCHED AND ${del} THEN DELETE`);
  if (nonKey.length)
    lines.push(`WHEN MATCHED THEN UPDATE SET ${nonKey.map((c) => `${q(c.target)} = ${sv(c)}`).join(', ')}`);
  lines.push(
    `WHEN NOT MATCHED${withDelete ? ` AND (s.${q(DEL_COL)} IS NULL OR s.${q(DEL_COL)} <> 'true')` : ''} THEN INSERT (${cols.map((c) => q(c.target)).join(', ')}) VALUES (${cols.map(sv).join(', ')})`,
  );
  return lines.join('\n');
}

/** `CREATE TABLE IF NOT EXISTS` for a target, from mapped columns (discovery). */
export function createTargetSql(
  target: [string, string, string],
  cols: { name: string; sfType: string; nullable: boolean }[],
  pk: string[],
): string {
  const defs = cols.map((c) => `  ${quoteSnowflakeIdent(c.name)} ${c.sfType}${c.nullable ? '' : ' NOT NULL'}`);
  if (pk.length) defs.push(`  PRIMARY KEY (${pk.map(quoteSnowflakeIdent).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${quoteSnowflakeName(...target)} (\n${defs.join(',\n')}\n)`;
}
