/**
 * What the API reads from Snowflake's catalog: the tables of a schema with their
 * size, and one table's columns. Names are resolved by Snowflake's identifier rules
 * ({@link snowflakeStoredName}): `orders` is `ORDERS`, `"orders"` is exactly `orders`; the answer
 * carries the stored names, so the caller sees which object was picked.
 *
 * Values are put into SQL only through src/sql/quote.ts (identifiers and string literals).
 */
import { quoteSnowflakeIdent, snowflakeLiteral, snowflakeStoredName } from '../../sql/quote.js';
import type { SnowflakeSession } from '../../connectors/snowflake.js';

/** One table of a schema, as `GET /sync/tables/{schema}` returns it. */
export interface SnowflakeTableInfo {
  name: string;
  database: string;
  schema: string;
  /** Row count as a decimal string (NUMBER may exceed 2^53), or null for views/unknown. */
  rows: string | null;
  /** Bytes as a decimal string, or null. */
  bytes: string | null;
  /** ISO-8601 UTC, or null. */
  last_altered: string | null;
  kind: string;
}

/** One column, as INFORMATION_SCHEMA.COLUMNS describes it (numbers as strings, sizes may be null). */
export interface SnowflakeColumnInfo {
  COLUMN_NAME: string;
  DATA_TYPE: string;
  NUMERIC_PRECISION: string | null;
  NUMERIC_SCALE: string | null;
  CHARACTER_MAXIMUM_LENGTH: string | null;
  DATETIME_PRECISION: string | null;
  IS_NULLABLE: string | null;
  ORDINAL_POSITION: string | null;
}

/** A table resolved to the names Snowflake stores, with its columns and size. */
export interface ResolvedTable {
  database: string;
  schema: string;
  table: string;
  columns: SnowflakeColumnInfo[];
  rows: string | null;
  bytes: string | null;
  last_altered: string | null;
}

/** Thrown when the database, schema or table does not exist; `what` names which. */
export class SnowflakeObjectNotFoundError extends Error {
  constructor(
    readonly what: 'database' | 'schema' | 'table',
    readonly qualifiedName: string,
  ) {
    super(`${what} ${qualifiedName} does not exist in Snowflake (or is not visible to floe's role)`);
    this.name = 'SnowflakeObjectNotFoundError';
  }
}

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  // snowflake-sdk returns SfTimestamp objects for TIMESTAMP_* columns: they have toJSON/ getEpochSeconds.
  const o = v as { toJSON?: () => string; getEpochSeconds?: () => number; getNanoSeconds?: () => number };
  if (typeof o.getEpochSeconds === 'function') {
    const ms = o.getEpochSeconds() * 1000 + Math.floor((o.getNanoSeconds?.() ?? 0) / 1e6);
    return new Date(ms).toISOString();
  }
  const s = typeof o.toJSON === 'function' ? o.toJSON() : String(v);
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Is this a driver error saying the object does not exist (SQL compilation error 002003)? */
function isDoesNotExist(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return String(e?.code) === '2003' || String(e?.code) === '002003' || /does not exist/i.test(String(e?.message ?? ''));
}

/** Runs `sql` against the stored database name; a database that does not exist is {@link SnowflakeObjectNotFoundError}. */
async function queryInDatabase<T extends Record<string, unknown>>(
  session: SnowflakeSession,
  database: string,
  sql: (db: string) => string,
): Promise<T[]> {
  try {
    return await session.query<T>(sql(quoteSnowflakeIdent(database)));
  } catch (err) {
    if (isDoesNotExist(err)) throw new SnowflakeObjectNotFoundError('database', database);
    throw err;
  }
}

/**
 * Tables of `database.schema` with row count, bytes and last-altered time (INFORMATION_SCHEMA.TABLES,
 * the documented equivalent of SHOW TABLES' rows/bytes). Throws {@link SnowflakeObjectNotFoundError}
 * when the database or schema does not exist.
 */
export async function listSnowflakeTables(
  session: SnowflakeSession,
  database: string,
  schema: string,
): Promise<SnowflakeTableInfo[]> {
  const db = snowflakeStoredName(database);
  const sc = snowflakeStoredName(schema);
  const rows = await queryInDatabase<Record<string, unknown>>(
    session,
    db,
    (qdb) =>
      `SELECT TABLE_NAME, TABLE_TYPE, ROW_COUNT, BYTES, LAST_ALTERED FROM ${qdb}.INFORMATION_SCHEMA.TABLES ` +
      `WHERE TABLE_SCHEMA = ${snowflakeLiteral(sc)} ORDER BY TABLE_NAME`,
  );
  if (rows.length === 0) {
    // An empty schema is not an error, a missing one is: look it up.
    const schemas = await queryInDatabase<Record<string, unknown>>(
      session,
      db,
      (qdb) => `SELECT SCHEMA_NAME FROM ${qdb}.INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ${snowflakeLiteral(sc)}`,
    );
    if (schemas.length === 0) throw new SnowflakeObjectNotFoundError('schema', `${db}.${sc}`);
  }
  return rows.map((r) => ({
    name: String(r.TABLE_NAME),
    database: db,
    schema: sc,
    rows: str(r.ROW_COUNT),
    bytes: str(r.BYTES),
    last_altered: iso(r.LAST_ALTERED),
    kind: String(r.TABLE_TYPE ?? 'BASE TABLE'),
  }));
}

/**
 * Resolve `database.schema.table` to the stored names and read its columns (ordered) and size.
 * Throws {@link SnowflakeObjectNotFoundError} naming the missing database or table.
 */
export async function describeSnowflakeTable(
  session: SnowflakeSession,
  database: string,
  schema: string,
  table: string,
): Promise<ResolvedTable> {
  const db = snowflakeStoredName(database);
  const s = snowflakeStoredName(schema);
  const t = snowflakeStoredName(table);
  const tables = await queryInDatabase<Record<string, unknown>>(
    session,
    db,
    (qdb) =>
      `SELECT TABLE_NAME, ROW_COUNT, BYTES, LAST_ALTERED FROM ${qdb}.INFORMATION_SCHEMA.TABLES ` +
      `WHERE TABLE_SCHEMA = ${snowflakeLiteral(s)} AND TABLE_NAME = ${snowflakeLiteral(t)}`,
  );
  const found = tables[0];
  if (!found) throw new SnowflakeObjectNotFoundError('table', `${db}.${s}.${t}`);
  const columns = await session.query<Record<string, unknown>>(
    `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH, DATETIME_PRECISION, IS_NULLABLE, ORDINAL_POSITION ` +
      `FROM ${quoteSnowflakeIdent(db)}.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ${snowflakeLiteral(s)} AND TABLE_NAME = ${snowflakeLiteral(t)} ` +
      `ORDER BY ORDINAL_POSITION`,
  );
  return {
    database: db,
    schema: s,
    table: t,
    columns: columns.map((c) => ({
      COLUMN_NAME: String(c.COLUMN_NAME),
      DATA_TYPE: String(c.DATA_TYPE),
      NUMERIC_PRECISION: str(c.NUMERIC_PRECISION),
      NUMERIC_SCALE: str(c.NUMERIC_SCALE),
      CHARACTER_MAXIMUM_LENGTH: str(c.CHARACTER_MAXIMUM_LENGTH),
      DATETIME_PRECISION: str(c.DATETIME_PRECISION),
      IS_NULLABLE: str(c.IS_NULLABLE),
      ORDINAL_POSITION: str(c.ORDINAL_POSITION),
    })),
    rows: str(found.ROW_COUNT),
    bytes: str(found.BYTES),
    last_altered: iso(found.LAST_ALTERED),
  };
}
