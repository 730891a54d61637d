/**
 * PostgreSQL side of the table sync: `table_sync_status` and `table_metadata` (migrations/0001),
 * kept current at start, success and failure. Idempotent upserts keyed by table_id. A table id that
 * is not registered in `allowed_tables` (ad-hoc runs, tests) is skipped with a log line rather than
 * failing the job.
 */
import type pg from 'pg';
import type { ColumnPlan } from '../../sql/typemap.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One status transition of a table. `error` must not contain secrets (messages come from failures). */
export interface TableStatusUpdate {
  tableId: string;
  jobId: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  error?: string | null;
  rowCount?: number | null;
  sizeBytes?: number | null;
  highWaterMark?: string | null;
}

/** Upsert `table_sync_status`. Returns false when the table is not registered. */
export async function recordStatus(pool: pg.Pool, u: TableStatusUpdate): Promise<boolean> {
  if (!UUID.test(u.tableId)) return false;
  const done = u.status !== 'running';
  const r = await pool.query(
    `INSERT INTO table_sync_status (table_id, last_job_id, last_sync_status, last_sync_at, last_error, row_count, size_bytes, high_water_mark, updated_at)
     SELECT $1::uuid, $2, $3, CASE WHEN $4 THEN now() END, $5, $6, $7, $8, now()
     WHERE EXISTS (SELECT 1 FROM allowed_tables WHERE table_id = $1::uuid)
     ON CONFLICT (table_id) DO UPDATE SET
       last_job_id = excluded.last_job_id,
       last_sync_status = excluded.last_sync_status,
       last_sync_at = COALESCE(excluded.last_sync_at, table_sync_status.last_sync_at),
       last_error = excluded.last_error,
       row_count = COALESCE(excluded.row_count, table_sync_status.row_count),
       size_bytes = COALESCE(excluded.size_bytes, table_sync_status.size_bytes),
       high_water_mark = COALESCE(excluded.high_water_mark, table_sync_status.high_water_mark),
       updated_at = now()`,
    [
      u.tableId,
      u.jobId,
      u.status,
      done,
      u.error ?? null,
      u.rowCount ?? null,
      u.sizeBytes ?? null,
      u.highWaterMark ?? null,
    ],
  );
  return (r.rowCount ?? 0) > 0;
}

/** The DuckDB target recorded for a registration (`allowed_tables.target_schema/target_table`), or null when not registered. */
export async function registeredTarget(
  pool: pg.Pool,
  tableId: string,
): Promise<{ schema: string; table: string } | null> {
  if (!UUID.test(tableId)) return null;
  const r = await pool.query<{ target_schema: string; target_table: string }>(
    'SELECT target_schema, target_table FROM allowed_tables WHERE table_id = $1::uuid',
    [tableId],
  );
  return r.rows[0] ? { schema: r.rows[0].target_schema, table: r.rows[0].target_table } : null;
}

/** Upsert `table_metadata` from a source description (columns as JSON: name, Snowflake and DuckDB types). */
export async function recordMetadata(
  pool: pg.Pool,
  m: {
    tableId: string;
    columns: ColumnPlan[];
    rowCount: number | null;
    bytes: number | null;
    lastAltered: string | null;
  },
): Promise<boolean> {
  if (!UUID.test(m.tableId)) return false;
  const cols = m.columns.map((c) => ({
    name: c.name,
    type: c.sourceType,
    duckdbType: c.duckdbType,
    nullable: c.nullable,
  }));
  const r = await pool.query(
    `INSERT INTO table_metadata (table_id, columns, column_count, row_count, size_bytes, last_altered, last_updated)
     SELECT $1::uuid, $2::jsonb, $3, $4, $5, $6::timestamptz, now()
     WHERE EXISTS (SELECT 1 FROM allowed_tables WHERE table_id = $1::uuid)
     ON CONFLICT (table_id) DO UPDATE SET columns = excluded.columns, column_count = excluded.column_count,
       row_count = excluded.row_count, size_bytes = excluded.size_bytes, last_altered = excluded.last_altered, last_updated = now()`,
    [m.tableId, JSON.stringify(cols), cols.length, m.rowCount, m.bytes, m.lastAltered],
  );
  return (r.rowCount ?? 0) > 0;
}
