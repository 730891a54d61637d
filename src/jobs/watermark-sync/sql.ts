/**
 * SQL text of the watermark sync, PostgreSQL and Snowflake sides. Pure functions (no I/O); every
 * identifier goes through src/sql/quote.ts and every value is a bind parameter, except type names
 * that PostgreSQL's own `format_type` produced (used in casts of bind parameters) and Snowflake
 * types read from INFORMATION_SCHEMA. test/unit/watermark-sync-sql.test.ts pins each generated text.
 */
import {
  quotePgIdent,
  quotePgName,
  quoteSnowflakeIdent,
  quoteSnowflakeName,
  snowflakeLiteral,
} from '../../sql/quote.js';
import { floeError, NonRetryable } from '../../errors.js';
import type { SyncPosition, TablePlanRef } from './contract.js';

/** Thrown for a name the config gives that cannot be parsed. */
const invalid = (message: string): Error => floeError(NonRetryable.InvalidRequest, message);

/**
 * Split a dotted name into identifier parts. Double-quoted parts keep their case (`""` escapes a
 * quote); unquoted parts fold as the dialect folds them: `lower` for PostgreSQL, `upper` for Snowflake.
 * @throws InvalidRequest for an empty part or an unterminated quote.
 */
export function parseDottedName(text: string, fold: 'lower' | 'upper'): string[] {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i <= s.length) {
    let part = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw invalid(`unterminated quote in name ${JSON.stringify(text)}`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i++];
      }
    } else {
      while (i < s.length && s[i] !== '.') part += s[i++];
      part = part.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(part))
        throw invalid(`invalid name part ${JSON.stringify(part)} in ${JSON.stringify(text)} (quote it with "")`);
      part = fold === 'lower' ? part.toLowerCase() : part.toUpperCase();
    }
    if (part === '') throw invalid(`empty name part in ${JSON.stringify(text)}`);
    parts.push(part);
    if (i >= s.length) break;
    if (s[i] !== '.') throw invalid(`unexpected ${JSON.stringify(s[i])} in name ${JSON.stringify(text)}`);
    i++;
  }
  return parts;
}

/** `[schema, table]` of a configured source (`table` alone means schema `public`). */
export function sourceParts(source: string): [string, string] {
  const p = parseDottedName(source, 'lower');
  if (p.length === 1) return ['public', p[0]];
  if (p.length === 2) return [p[0], p[1]];
  throw invalid(`source ${JSON.stringify(source)} must be schema.table`);
}

/** A single column name from the config, folded like PostgreSQL (unquoted → lower case). */
export function sourceColumn(name: string): string {
  const p = parseDottedName(name, 'lower');
  if (p.length !== 1) throw invalid(`column ${JSON.stringify(name)} must be a single name`);
  return p[0];
}

/** `[database, schema, table]` of a configured target; two parts take `defaultDatabase`. */
export function targetParts(target: string, defaultDatabase: string | undefined): [string, string, string] {
  const p = parseDottedName(target, 'upper');
  if (p.length === 3) return [p[0], p[1], p[2]];
  if (p.length === 2) {
    if (!defaultDatabase)
      throw invalid(`target ${JSON.stringify(target)} has no database and SNOWFLAKE_DATABASE is not set`);
    return [defaultDatabase, p[0], p[1]];
  }
  throw invalid(`target ${JSON.stringify(target)} must be schema.table or database.schema.table`);
}

// ------------------------------------------------------------------ PostgreSQL → Snowflake types

/** One row of the source column query ({@link sourceColumnsSql}). */
export interface PgColumnRow {
  column_name: string;
  data_type: string;
  udt_name: string;
  numeric_precision: number | null;
  numeric_scale: number | null;
  character_maximum_length: number | null;
  is_nullable: string;
  pg_type: string;
}

/**
 * Columns of a PostgreSQL table from information_schema, with `format_type` (for casts). $1 schema, $2 table.
 */
export const sourceColumnsSql = `SELECT c.column_name, c.data_type, c.udt_name, c.numeric_precision, c.numeric_scale,
  c.character_maximum_length, c.is_nullable, format_type(a.atttypid, a.atttypmod) AS pg_type
FROM information_schema.columns c
JOIN pg_catalog.pg_namespace n ON n.nspname = c.table_schema
JOIN pg_catalog.pg_class k ON k.relnamespace = n.oid AND k.relname = c.table_name
JOIN pg_catalog.pg_attribute a ON a.attrelid = k.oid AND a.attname = c.column_name
WHERE c.table_schema = $1 AND c.table_name = $2
ORDER BY c.ordinal_position`;

/**
 * Snowflake type for a PostgreSQL column (PeerDB's choices): integers → NUMBER(38,0);
 * numeric(p,s) → NUMBER(p,s) (p ≤ 38; wider → VARCHAR so no digit is lost); unbounded numeric →
 * NUMBER(38,20); real/double → FLOAT; timestamptz → TIMESTAMP_TZ; timestamp → TIMESTAMP_NTZ;
 * json/jsonb/arrays → VARIANT; bytea → BINARY; uuid, text and everything else → VARCHAR.
 */
export function snowflakeTypeFor(c: Pick<PgColumnRow, 'data_type' | 'numeric_precision' | 'numeric_scale'>): string {
  switch (c.data_type) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return 'NUMBER(38,0)';
    case 'numeric': {
      if (c.numeric_precision === null || c.numeric_precision === undefined) return 'NUMBER(38,20)';
      if (c.numeric_precision > 38) return 'VARCHAR';
      return `NUMBER(${c.numeric_precision},${c.numeric_scale ?? 0})`;
    }
    case 'real':
    case 'double precision':
      return 'FLOAT';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'time without time zone':
      return 'TIME';
    case 'timestamp without time zone':
      return 'TIMESTAMP_NTZ';
    case 'timestamp with time zone':
      return 'TIMESTAMP_TZ';
    case 'json':
    case 'jsonb':
    case 'ARRAY':
      return 'VARIANT';
    case 'bytea':
      return 'BINARY';
    default:
      return 'VARCHAR';
  }
}

/**
 * The expression that reads a source column as text Snowflake parses without a format: instants as
 * UTC ISO-8601 with `Z` (timestamptz has no stored offset, so nothing is lost), timestamps and dates
 * ISO-8601, bytea as hex, arrays as JSON, numerics as their exact decimal text. Independent of the
 * session's TimeZone and DateStyle.
 */
export function pgTextExpr(quotedCol: string, dataType: string): string {
  switch (dataType) {
    case 'timestamp with time zone':
      return `to_char(${quotedCol} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    case 'timestamp without time zone':
      return `to_char(${quotedCol}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
    case 'date':
      return `to_char(${quotedCol}, 'YYYY-MM-DD')`;
    case 'bytea':
      return `encode(${quotedCol}, 'hex')`;
    case 'ARRAY':
      return `to_json(${quotedCol})::text`;
    default:
      return `${quotedCol}::text`;
  }
}

/** Watermark column types floe can page on. */
export function isTimeWatermark(pgType: string): boolean {
  return /^(timestamp|date)/.test(pgType);
}
export function isSupportedWatermark(dataType: string): boolean {
  return [
    'timestamp with time zone',
    'timestamp without time zone',
    'date',
    'smallint',
    'integer',
    'bigint',
    'numeric',
  ].includes(dataType);
}

// ------------------------------------------------------------------ PostgreSQL batch reads

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

/** Cast of a VARCHAR staging value to a Snowflake target type (INFORMATION_SCHEMA form, e.g. NUMBER(38,20)). */
export function castFromText(expr: string, sfType: string): string {
  const t = sfType.toUpperCase();
  if (/^(TEXT|VARCHAR|STRING|CHAR)/.test(t)) return expr;
  if (/^(VARIANT|OBJECT|ARRAY)/.test(t)) return `PARSE_JSON(${expr})`;
  if (/^(BINARY|VARBINARY)/.test(t)) return `TO_BINARY(${expr}, 'HEX')`;
  if (
    /^(NUMBER|DECIMAL|NUMERIC|FLOAT|DOUBLE|REAL|BOOLEAN|DATE|TIME|TIMESTAMP)/.test(t) &&
    /^[A-Z_]+(\(\d+(,\s*\d+)?\))?$/.test(t)
  ) {
    return `${expr}::${t.replace(/\s+/g, '')}`;
  }
  throw invalid(`cannot load into Snowflake type ${sfType}`);
}

/** Snowflake's INFORMATION_SCHEMA columns of a table, for the MERGE's casts. */
export function targetColumnsSql(target: [string, string, string]): string {
  return `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM ${quoteSnowflakeIdent(target[0])}.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ${snowflakeLiteral(target[1])} AND TABLE_NAME = ${snowflakeLiteral(target[2])} ORDER BY ORDINAL_POSITION`;
}

/** A target column's full type from an INFORMATION_SCHEMA row (NUMBER keeps precision and scale). */
export function sfTypeOf(r: { DATA_TYPE: unknown; NUMERIC_PRECISION: unknown; NUMERIC_SCALE: unknown }): string {
  const t = String(r.DATA_TYPE).toUpperCase();
  if (t === 'NUMBER' && r.NUMERIC_PRECISION !== null && r.NUMERIC_PRECISION !== undefined)
    return `NUMBER(${String(r.NUMERIC_PRECISION)},${String(r.NUMERIC_SCALE ?? 0)})`;
  return t;
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

/** Snowflake name for a discovered source column: upper case when it is a plain lower-case name (Snowflake's unquoted form). */
export function defaultTargetColumn(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name.toUpperCase() : name;
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
