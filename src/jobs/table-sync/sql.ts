/**
 * SQL texts of the table sync (Snowflake → DuckDB), built only from quoted identifiers
 * ({@link ./quote.ts}) and validated literals ({@link ./values.ts}). Every text is pinned by
 * test/sql.test.ts. Snowflake statements follow the Snowflake docs for INFORMATION_SCHEMA (stage
 * statements live in src/connectors/snowflake-stage.ts); DuckDB statements target DuckDB 1.5 (MERGE INTO, read_parquet).
 */
import {
  quoteDuckDbIdent,
  quoteDuckDbName,
  quoteSnowflakeIdent,
  quoteSnowflakeName,
  snowflakeLiteral,
} from '../../sql/quote.js';
import { unloadExpr, type ColumnPlan } from '../../sql/typemap.js';
import { snowflakeValueLiteral } from '../../sql/values.js';

/** A Snowflake table, as registered. */
export interface SourceTable {
  database: string;
  schema: string;
  table: string;
}

/** `DB.SCHEMA.TABLE` as shown in search attributes and messages (unquoted, for humans). */
export function displayName(t: SourceTable): string {
  return `${t.database}.${t.schema}.${t.table}`;
}

// ---------------------------------------------------------------- Snowflake

/** Columns of one table from the database's INFORMATION_SCHEMA in ordinal order. */
export function columnsQuery(t: SourceTable): string {
  return (
    `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH, DATETIME_PRECISION, IS_NULLABLE, ORDINAL_POSITION ` +
    `FROM ${quoteSnowflakeIdent(t.database)}.INFORMATION_SCHEMA.COLUMNS ` +
    `WHERE TABLE_SCHEMA = ${snowflakeLiteral(t.schema)} AND TABLE_NAME = ${snowflakeLiteral(t.table)} ORDER BY ORDINAL_POSITION`
  );
}

/**
 * Row count, bytes and LAST_ALTERED of one table from the database's INFORMATION_SCHEMA.TABLES.
 * LAST_ALTERED is converted to UTC text in Snowflake so no session time zone is involved.
 */
export function tableStatsQuery(t: SourceTable): string {
  return (
    `SELECT ROW_COUNT, BYTES, LAST_ALTERED ` +
    `FROM ${quoteSnowflakeIdent(t.database)}.INFORMATION_SCHEMA.TABLES ` +
    `WHERE TABLE_SCHEMA = ${snowflakeLiteral(t.schema)} AND TABLE_NAME = ${snowflakeLiteral(t.table)}`
  );
}

/** Incremental read window: `wm >= lower` (lag re-read, inclusive) or `wm > lower` (append mode). */
export interface WindowFilter {
  watermark: ColumnPlan;
  /** Canonical text of the bound (values.ts). */
  lower: string;
  inclusive: boolean;
}

/** Paging cursor of the stream method: rows strictly after `(watermark, key)` in that order. */
export interface PageCursor {
  watermark: ColumnPlan;
  key: ColumnPlan | null;
  afterWatermark: string;
  afterKey: string | null;
}

/** The WHERE clause (without `WHERE`) for a window and/or cursor, or '' for none. */
export function whereClause(window?: WindowFilter | null, cursor?: PageCursor | null): string {
  const parts: string[] = [];
  if (window) {
    parts.push(
      `${quoteSnowflakeIdent(window.watermark.name)} ${window.inclusive ? '>=' : '>'} ${snowflakeValueLiteral(window.watermark, window.lower)}`,
    );
  }
  if (cursor) {
    const w = quoteSnowflakeIdent(cursor.watermark.name);
    const wl = snowflakeValueLiteral(cursor.watermark, cursor.afterWatermark);
    if (cursor.key && cursor.afterKey !== null) {
      const k = quoteSnowflakeIdent(cursor.key.name);
      parts.push(`(${w} > ${wl} OR (${w} = ${wl} AND ${k} > ${snowflakeValueLiteral(cursor.key, cursor.afterKey)}))`);
    } else {
      parts.push(`${w} > ${wl}`);
    }
  }
  return parts.join(' AND ');
}

/** `SELECT COUNT(*) AS N FROM "DB"."S"."T" [WHERE ...]`. */
export function countQuery(t: SourceTable, where = ''): string {
  return `SELECT COUNT(*) AS N FROM ${quoteSnowflakeName(t.database, t.schema, t.table)}${where ? ` WHERE ${where}` : ''}`;
}

/**
 * Stream SELECT-list expression: dates, times and timestamps are formatted by Snowflake into the
 * stream's landing text (values.ts), so snowflake-sdk hands them over as the strings they are on the
 * wire instead of building a `Date` (a moment-timezone object, a Date and five closures per cell;
 * driver column.js `convertRawDate`, sf_timestamp.js) that floe would format back into the same text.
 * DATE `YYYY-MM-DD`; TIME `HH24:MI:SS.FF9` (the driver would hand TIME over only as text formatted
 * with TIME_OUTPUT_FORMAT, default `HH24:MI:SS`, fraction lost); TIMESTAMP_NTZ `YYYY-MM-DD
 * HH24:MI:SS.FF9`; TIMESTAMP_TZ/LTZ the same of the instant at UTC (`CONVERT_TIMEZONE('UTC', x)`, the
 * UTC wall clock). Nine fraction digits carry every digit Snowflake stores; DuckDB's cast of the text
 * to TIME/TIMESTAMP keeps microseconds and drops the rest (truncates, as the canonical texts do).
 * Every other column is selected as it is. The expressions carry no alias: the stream reads rows by
 * position, and an alias named as the column could take its place in ORDER BY (standard SQL, and
 * DuckDB, resolve an ORDER BY name to the SELECT list first), ordering pages by the text instead of
 * the value, so ORDER BY and WHERE always name the table's column.
 */
export function streamExpr(col: ColumnPlan): string {
  const q = quoteSnowflakeIdent(col.name);
  switch (col.family) {
    case 'DATE':
      return `TO_VARCHAR(${q}, 'YYYY-MM-DD')`;
    case 'TIME':
      return `TO_VARCHAR(${q}, 'HH24:MI:SS.FF9')`;
    case 'TIMESTAMP_NTZ':
      return `TO_VARCHAR(${q}, '${TIMESTAMP_TEXT}')`;
    case 'TIMESTAMP_TZ':
    case 'TIMESTAMP_LTZ':
      return `TO_VARCHAR(CONVERT_TIMEZONE('UTC', ${q}), '${TIMESTAMP_TEXT}')`;
    default:
      return q;
  }
}

/** The Snowflake format of a timestamp's stream text (see {@link streamExpr}). */
const TIMESTAMP_TEXT = 'YYYY-MM-DD HH24:MI:SS.FF9';

/** Name of the extra column {@link streamSelect} adds with `countSource`: the source's `COUNT(*)`. */
export const SOURCE_ROWS_COLUMN = '_FLOE_SOURCE_ROWS';

/**
 * The SELECT the stream method reads: {@link streamExpr} per column,
 * optionally filtered, ordered by (watermark, key) and limited to one page.
 *
 * With `countSource`, a last column {@link SOURCE_ROWS_COLUMN} carries the whole table's `COUNT(*)`,
 * an uncorrelated scalar subquery: it comes from the same statement, hence the same snapshot, as the
 * rows (Snowflake runs every statement on one consistent snapshot; its transactions are READ
 * COMMITTED, so a separate COUNT(*) could see other data). It is computed once, apart from the rows,
 * so the page's filter and LIMIT still narrow the scan of the rows (under a `COUNT(*) OVER ()` window
 * every page read the whole table and computed the window before its filter applied).
 */
export function streamSelect(
  t: SourceTable,
  cols: readonly ColumnPlan[],
  opts: { where?: string; orderBy?: readonly ColumnPlan[]; limit?: number; countSource?: boolean } = {},
): string {
  const from = quoteSnowflakeName(t.database, t.schema, t.table);
  const count = opts.countSource
    ? `, (SELECT COUNT(*) FROM ${from}) AS ${quoteSnowflakeIdent(SOURCE_ROWS_COLUMN)}`
    : '';
  let sql = `SELECT ${cols.map(streamExpr).join(', ')}${count} FROM ${from}`;
  if (opts.where) sql += ` WHERE ${opts.where}`;
  if (opts.orderBy?.length) sql += ` ORDER BY ${opts.orderBy.map((c) => quoteSnowflakeIdent(c.name)).join(', ')}`;
  if (opts.limit !== undefined) sql += ` LIMIT ${Math.max(1, Math.floor(opts.limit))}`;
  return sql;
}

/** The SELECT that is unloaded: {@link unloadExpr} per column (TZ/LTZ to UTC NTZ, semi-structured to JSON text). */
export function unloadSelect(t: SourceTable, cols: readonly ColumnPlan[], where = ''): string {
  return `SELECT ${cols.map(unloadExpr).join(', ')} FROM ${quoteSnowflakeName(t.database, t.schema, t.table)}${where ? ` WHERE ${where}` : ''}`;
}

// ---------------------------------------------------------------- DuckDB

/** DuckDB schema holding floe's own state (`_floe.state`) next to the synced data. */
export const STATE_SCHEMA = '_floe';

/**
 * A table-sync target inside the DuckDB file. DuckDB matches identifiers case-insensitively even
 * when quoted (DuckDB docs, "Identifiers"), so two targets that differ only in case are the same table.
 */
export interface TargetTable {
  schema: string;
  table: string;
}

/** Separator between the Snowflake database and schema in a default target schema. */
export const TARGET_SCHEMA_SEPARATOR = '__';

/**
 * The default target of a source: DuckDB schema `<DATABASE>__<SCHEMA>`, table `<TABLE>`, names as
 * Snowflake stores them (`SALES.PUBLIC.ORDERS` → `"SALES__PUBLIC"."ORDERS"`). The database is part of
 * the name so that `DB1.S.T` and `DB2.S.T` never share a target.
 */
export function defaultTarget(t: SourceTable): TargetTable {
  return { schema: `${t.database}${TARGET_SCHEMA_SEPARATOR}${t.schema}`, table: t.table };
}

/** `[schema, table]` of a target. */
export function targetParts(t: TargetTable): [string, string] {
  return [t.schema, t.table];
}

/** Prefix of full-refresh staging tables; target tables may not start with it. */
export const STAGING_PREFIX = '_floe_staging_';

/** Staging table of a full refresh (one per target, in the target's schema; dropped if left by a crash). */
export function stagingParts(t: TargetTable): [string, string] {
  return [t.schema, `${STAGING_PREFIX}${t.table}`];
}

/** `CREATE SCHEMA IF NOT EXISTS "S"`. */
export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteDuckDbIdent(schema)}`;
}

/** `CREATE TABLE "S"."T" ("c" TYPE, ...)` (no NOT NULL: the source's nullability may change). */
export function createTableSql(parts: readonly string[], cols: readonly ColumnPlan[]): string {
  return `CREATE TABLE ${quoteDuckDbName(...parts)} (${cols.map((c) => `${quoteDuckDbIdent(c.name)} ${c.duckdbType}`).join(', ')})`;
}

/** `ALTER TABLE ... ADD COLUMN "c" TYPE`. */
export function addColumnSql(parts: readonly string[], col: ColumnPlan): string {
  return `ALTER TABLE ${quoteDuckDbName(...parts)} ADD COLUMN ${quoteDuckDbIdent(col.name)} ${col.duckdbType}`;
}

/** `ALTER TABLE ... ALTER COLUMN "c" SET DATA TYPE TYPE` (safe widenings only, see planEvolution). */
export function widenColumnSql(parts: readonly string[], col: ColumnPlan): string {
  return `ALTER TABLE ${quoteDuckDbName(...parts)} ALTER COLUMN ${quoteDuckDbIdent(col.name)} SET DATA TYPE ${col.duckdbType}`;
}

/** `INSERT INTO "S"."T" ("a", ...) <select>`. */
export function insertSelectSql(parts: readonly string[], cols: readonly ColumnPlan[], select: string): string {
  return `INSERT INTO ${quoteDuckDbName(...parts)} (${cols.map((c) => quoteDuckDbIdent(c.name)).join(', ')}) ${select}`;
}

/**
 * Keep one row per key, the latest watermark winning (ties: any one of them — they are the same
 * source row read twice). Wraps a typed SELECT.
 */
export function dedupSelect(select: string, key: readonly ColumnPlan[], watermark: ColumnPlan): string {
  return `SELECT * FROM (${select}) QUALIFY row_number() OVER (PARTITION BY ${key.map((c) => quoteDuckDbIdent(c.name)).join(', ')} ORDER BY ${quoteDuckDbIdent(watermark.name)} DESC) = 1`;
}

/** `MERGE INTO target USING (<select>) AS s ON key... WHEN MATCHED UPDATE ... WHEN NOT MATCHED INSERT ...`. */
export function mergeSql(
  parts: readonly string[],
  cols: readonly ColumnPlan[],
  key: readonly ColumnPlan[],
  source: string,
): string {
  const t = quoteDuckDbName(...parts);
  const on = keyMatch(key);
  const keyNames = new Set(key.map((c) => c.name));
  const set = cols
    .filter((c) => !keyNames.has(c.name))
    .map((c) => `${quoteDuckDbIdent(c.name)} = s.${quoteDuckDbIdent(c.name)}`);
  const names = cols.map((c) => quoteDuckDbIdent(c.name)).join(', ');
  const values = cols.map((c) => `s.${quoteDuckDbIdent(c.name)}`).join(', ');
  return (
    `MERGE INTO ${t} AS t USING (${source}) AS s ON ${on}` +
    (set.length ? ` WHEN MATCHED THEN UPDATE SET ${set.join(', ')}` : '') +
    ` WHEN NOT MATCHED THEN INSERT (${names}) VALUES (${values})`
  );
}

/** `t.k1 = s.k1 AND ...`: a target row `t` and a source row `s` have the same primary key. */
function keyMatch(key: readonly ColumnPlan[]): string {
  return key.map((c) => `t.${quoteDuckDbIdent(c.name)} = s.${quoteDuckDbIdent(c.name)}`).join(' AND ');
}

/** How many rows of `relation` (one per key) already have their primary key in the target: the rows a MERGE will update. */
export function matchedKeysSql(parts: readonly string[], key: readonly ColumnPlan[], relation: string): string {
  return `SELECT count(*) FROM ${relation} AS s WHERE EXISTS (SELECT 1 FROM ${quoteDuckDbName(...parts)} AS t WHERE ${keyMatch(key)})`;
}

/** `CREATE TABLE IF NOT EXISTS "_floe"."state" (...)`: dlt-style state written with the data. */
export const createStateTableSql =
  `CREATE TABLE IF NOT EXISTS ${quoteDuckDbName(STATE_SCHEMA, 'state')} (target VARCHAR PRIMARY KEY, table_id VARCHAR, strategy VARCHAR, ` +
  `watermark_column VARCHAR, high_water_mark VARCHAR, last_job_id VARCHAR, rows_in_target BIGINT, updated_at TIMESTAMPTZ)`;

/** Upsert of one target's state row; parameters $1..$7 (target, table_id, strategy, wm column, hwm, job, rows). */
export const upsertStateSql = `INSERT OR REPLACE INTO ${quoteDuckDbName(STATE_SCHEMA, 'state')} VALUES ($1, $2, $3, $4, $5, $6, $7, now())`;

/** Canonical-text expression of a DuckDB value of `col` (see values.ts), e.g. for `max(wm)`. */
export function canonicalTextExpr(col: ColumnPlan, expr: string): string {
  switch (col.family) {
    case 'TIMESTAMP_NTZ':
      return `strftime(CAST(${expr} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f')`;
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ':
      return `strftime(make_timestamp(epoch_us(${expr})), '%Y-%m-%d %H:%M:%S.%f')`;
    case 'DATE':
      return `strftime(${expr}, '%Y-%m-%d')`;
    default:
      return `CAST(${expr} AS VARCHAR)`;
  }
}
