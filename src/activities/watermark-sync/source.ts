/** Reads of the watermark sync's source PostgreSQL database: every value as PostgreSQL text. */
import type pg from 'pg';
import { toFailure } from '../../errors.js';

/** pg type parsers that keep every value as the text PostgreSQL sent (exact numerics, timestamps as written). */
const TEXT_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/**
 * Run one statement on the source database for `table`, values as text.
 * @throws ApplicationFailure typed by `classifyPostgres` (src/errors.ts: 42P01 TableNotFound, class 22
 *   DataConversion, ...), its message naming the table: `<table>: PostgreSQL: <message> [SQLSTATE]`.
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
    throw toFailure(err, `${table}: PostgreSQL`);
  }
}
