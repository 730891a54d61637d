/**
 * Snowflake SQL of one execution upload. Every name is quoted by src/sql/quote.ts; values travel as
 * binds or files, never in SQL text. Pinned by test/unit/execution-upload-sql.test.ts.
 *
 * Load protocol (idempotent: a retried upload never duplicates rows):
 * 1. `CREATE OR REPLACE TEMPORARY TABLE <T>__FLOE_RAW` (every column VARCHAR), filled by array binds or
 *    by PUT + COPY of a CSV file;
 * 2. `CREATE OR REPLACE TABLE <T> AS SELECT <casts> FROM <T>__FLOE_RAW`: the typed target replaced in
 *    one statement, so it only ever holds one complete copy of the results;
 * 3. `DROP TABLE IF EXISTS <T>__FLOE_RAW` (the session is reused), `SELECT COUNT(*)` of the target.
 */
import { quoteSnowflakeIdent, quoteSnowflakeName } from '../../sql/quote.js';
import type { InferredColumn, InferredType } from './infer.js';

/** Fully qualified name parts `[database, schema, table]`. */
export type SfName = [string, string, string];

/** Suffix of the staging table next to the target. */
export const RAW_SUFFIX = '__FLOE_RAW';

/** CSV format of the file path: every field quoted, NULL as an unquoted `\N`. */
export const UPLOAD_CSV_FORMAT = `FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '"' NULL_IF = ('\\\\N') ESCAPE_UNENCLOSED_FIELD = NONE)`;

/** Name of the staging (raw) table of a target. */
export function rawName(target: SfName): SfName {
  return [target[0], target[1], target[2] + RAW_SUFFIX];
}

/** `CREATE OR REPLACE TEMPORARY TABLE raw (c VARCHAR, …)`. */
export function createRawSql(raw: SfName, cols: InferredColumn[]): string {
  return `CREATE OR REPLACE TEMPORARY TABLE ${quoteSnowflakeName(...raw)} (${cols.map((c) => `${quoteSnowflakeIdent(c.name)} VARCHAR`).join(', ')})`;
}

/** Array-bind `INSERT INTO raw (…) VALUES (?, …)`. */
export function insertRawSql(raw: SfName, cols: InferredColumn[]): string {
  return `INSERT INTO ${quoteSnowflakeName(...raw)} (${cols.map((c) => quoteSnowflakeIdent(c.name)).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
}

/** `COPY INTO raw FROM @stage/path/` for the CSV written by the file path. */
export function copyRawSql(raw: SfName, stagePath: string): string {
  return `COPY INTO ${quoteSnowflakeName(...raw)} FROM ${stagePath} ${UPLOAD_CSV_FORMAT} PURGE = TRUE`;
}

/** Cast of a VARCHAR staging value to an inferred type. */
export function castText(expr: string, t: InferredType): string {
  if (t === 'VARCHAR') return expr;
  if (t === 'VARIANT') return `PARSE_JSON(${expr})`;
  return `${expr}::${t}`;
}

/**
 * `CREATE OR REPLACE TABLE target AS SELECT <casts> FROM raw`: builds the typed table and replaces the
 * target in one statement (Snowflake's CREATE OR REPLACE drops the old table and creates the new one in
 * one transaction, so readers see the previous rows or the new ones, never a part). Each column's type is
 * its cast's (`::NUMBER(38,2)`, `PARSE_JSON` → VARIANT, VARCHAR as is).
 */
export function replaceTargetSql(target: SfName, raw: SfName, cols: InferredColumn[]): string {
  const casts = cols.map((c) => `${castText(quoteSnowflakeIdent(c.name), c.sfType)} AS ${quoteSnowflakeIdent(c.name)}`);
  return `CREATE OR REPLACE TABLE ${quoteSnowflakeName(...target)} AS SELECT ${casts.join(', ')} FROM ${quoteSnowflakeName(...raw)}`;
}

/** `DROP TABLE IF EXISTS raw`: the session may serve further uploads, so its staging table goes now. */
export function dropRawSql(raw: SfName): string {
  return `DROP TABLE IF EXISTS ${quoteSnowflakeName(...raw)}`;
}

/** `SELECT COUNT(*) AS N FROM target`. */
export function countSql(target: SfName): string {
  return `SELECT COUNT(*) AS N FROM ${quoteSnowflakeName(...target)}`;
}
