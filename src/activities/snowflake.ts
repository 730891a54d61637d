/**
 * Snowflake side of the table sync: schema, statistics and row counts. Every function takes an open {@link SnowflakeSession}; credentials stay in the
 * session factory.
 */
import type { SnowflakeSession } from '../connectors/snowflake.js';
import { mapColumns, type ColumnPlan, type SnowflakeColumnRow } from '../sql/typemap.js';
import * as S from '../sql/tableSync.js';
import { floeError, NonRetryable } from '../errors.js';

/** Schema and statistics of a source table, read before any extraction (LAST_ALTERED first). */
export interface SourceDescription {
  columns: ColumnPlan[];
  /** INFORMATION_SCHEMA.TABLES.ROW_COUNT (rows), or null if unknown. */
  rowCount: number | null;
  /** INFORMATION_SCHEMA.TABLES.BYTES, or null. */
  bytes: number | null;
  /** LAST_ALTERED as ISO-8601 UTC text, or null. */
  lastAltered: string | null;
}

function toIso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const e = v as { getEpochSeconds?: () => number; getNanoSeconds?: () => number };
  if (typeof e.getEpochSeconds === 'function') {
    return new Date(e.getEpochSeconds() * 1000 + Math.trunc((e.getNanoSeconds?.() ?? 0) / 1e6)).toISOString();
  }
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/**
 * Columns (mapped to DuckDB types) and statistics of `t`. Throws TableNotFound when the table has no
 * columns in INFORMATION_SCHEMA (missing or not visible), UnsupportedType for unmappable columns.
 */
export async function describeSource(sf: SnowflakeSession, t: S.SourceTable): Promise<SourceDescription> {
  const stats = await sf.query(S.tableStatsQuery(t));
  const rows = await sf.query<SnowflakeColumnRow & Record<string, unknown>>(S.columnsQuery(t));
  if (rows.length === 0) {
    throw floeError(NonRetryable.TableNotFound, `table ${S.displayName(t)} does not exist or is not visible`);
  }
  const s = stats[0] ?? {};
  const n = (v: unknown) => (v === null || v === undefined || v === '' ? null : Number(v));
  return {
    columns: mapColumns(S.displayName(t), rows),
    rowCount: n(s.ROW_COUNT),
    bytes: n(s.BYTES),
    lastAltered: toIso(s.LAST_ALTERED),
  };
}

/** Exact `COUNT(*)` of the table (optionally filtered). */
export async function countRows(sf: SnowflakeSession, t: S.SourceTable, where = ''): Promise<number> {
  const r = await sf.query(S.countQuery(t, where));
  return Number(Object.values(r[0] ?? { N: 0 })[0] ?? 0);
}
