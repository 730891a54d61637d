/**
 * Snowflake SQL of one execution upload. Every name is quoted by src/sql/quote.ts; values travel as
 * binds or files, never in SQL text. Pinned by test/unit/execution-upload-sql.test.ts.
 *
 * Load protocol (idempotent: a retried upload never duplicates rows):
 * 1. `CREATE OR REPLACE TEMPORARY TABLE <T>__FLOE_RAW` (every column VARCHAR), filled by array binds or
 *    by PUT + COPY of a CSV file;
 * 2. `CREATE OR REPLACE TABLE <T>__FLOE_LOAD` with the inferred types, `INSERT … SELECT` with casts;
 * 3. `CREATE TABLE IF NOT EXISTS <T> LIKE <T>__FLOE_LOAD`, `ALTER TABLE <T> SWAP WITH <T>__FLOE_LOAD`,
 *    drop the leftovers. The target only ever holds one complete copy of the results.
 */
import { quoteSnowflakeIdent, quoteSnowflakeName } from '../../sql/quote.js';
import type { InferredColumn, InferredType } from './infer.js';

/** Fully qualified name parts `[database, schema, table]`. */
export type SfName = [string, string, string];

/** Suffixes of the helper tables next to the target. */
export const RAW_SUFFIX = '__FLOE_RAW';
export const LOAD_SUFFIX = '__FLOE_LOAD';

/** CSV format of the file path: every field quoted, NULL as an unquoted `\N`. */
export const UPLOAD_CSV_FORMAT = `FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '"' NULL_IF = ('\\\\N') ESCAPE_UNENCLOSED_FIELD = NONE)`;

/** Names of the raw and load tables of a target. */
export function helperNames(target: SfName): { raw: SfName; load: SfName } {
  return { raw: [target[0], target[1], target[2] + RAW_SUFFIX], load: [target[0], target[1], target[2] + LOAD_SUFFIX] };
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

/** `CREATE OR REPLACE TABLE load (c <type>, …)`. */
export function createLoadSql(load: SfName, cols: InferredColumn[]): string {
  return `CREATE OR REPLACE TABLE ${quoteSnowflakeName(...load)} (${cols.map((c) => `${quoteSnowflakeIdent(c.name)} ${c.sfType}`).join(', ')})`;
}

/** Cast of a VARCHAR staging value to an inferred type. */
export function castText(expr: string, t: InferredType): string {
  if (t === 'VARCHAR') return expr;
  if (t === 'VARIANT') return `PARSE_JSON(${expr})`;
  return `${expr}::${t}`;
}

/** `INSERT INTO load (…) SELECT <casts> FROM raw`. */
export function fillLoadSql(load: SfName, raw: SfName, cols: InferredColumn[]): string {
  const names = cols.map((c) => quoteSnowflakeIdent(c.name));
  const casts = cols.map((c) => castText(quoteSnowflakeIdent(c.name), c.sfType));
  return `INSERT INTO ${quoteSnowflakeName(...load)} (${names.join(', ')}) SELECT ${casts.join(', ')} FROM ${quoteSnowflakeName(...raw)}`;
}

/** The statements that publish `load` as `target` (swap), leaving no helper table behind. */
export function publishSql(target: SfName, load: SfName, raw: SfName): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteSnowflakeName(...target)} LIKE ${quoteSnowflakeName(...load)}`,
    `ALTER TABLE ${quoteSnowflakeName(...target)} SWAP WITH ${quoteSnowflakeName(...load)}`,
    `DROP TABLE IF EXISTS ${quoteSnowflakeName(...load)}`,
    `DROP TABLE IF EXISTS ${quoteSnowflakeName(...raw)}`,
  ];
}

/** `SELECT COUNT(*) AS N FROM target`. */
export function countSql(target: SfName): string {
  return `SELECT COUNT(*) AS N FROM ${quoteSnowflakeName(...target)}`;
}
