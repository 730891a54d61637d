/** Reads of the watermark sync's source PostgreSQL database: every value as PostgreSQL text. */
import type pg from 'pg';
import { classifyPostgres, floeError, Retryable } from '../../errors.js';

/** pg type parsers that keep every value as the text PostgreSQL sent (exact numerics, timestamps as written). */
const TEXT_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/**
 * Run one statement on the source database for `table`, values as text.
 * @throws a floe error typed by `classifyPostgres` (src/errors.ts: 42P01 TableNotFound, class 22
 *   DataConversion, ...; anything else Transient, retried), its message naming the table:
 *   `<table>: PostgreSQL: <message> [<SQLSTATE>]`. The driver's error is not kept as the cause: the
 *   workflow reports the innermost message of a failure's cause chain, and this one names the table.
 */
export async function sourceQuery<T extends pg.QueryResultRow = Record<string, string | null>>(
  pool: pg.Pool,
  table: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  try {
    const r = await pool.query<T>({ text: sql, values: params, types: TEXT_TYPES });
    return r.rows;
  } catch (err) {
    const e = (err ?? {}) as { code?: unknown; message?: string };
    const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
    // classifyPostgres returns one of floe's types (src/errors.ts) as a plain string.
    const type = (classifyPostgres(e) ?? Retryable.Transient) as Parameters<typeof floeError>[0];
    throw floeError(type, `${table}: PostgreSQL: ${e.message ?? String(err)}${code}`);
  }
}
