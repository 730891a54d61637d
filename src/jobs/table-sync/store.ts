/**
 * Registered tables in the PostgreSQL control plane:
 * `allowed_tables` (what may be synced, with its primary key and watermark column),
 * `table_metadata` (columns and size as last read from Snowflake) and `table_sync_status` (the
 * outcome of the last sync, written by the tableSync activities).
 *
 * Each registration writes one DuckDB target (`target_schema`.`target_table`, migrations/0007), by
 * default {@link defaultTarget} (`<DATABASE>__<SCHEMA>`.`<TABLE>`); a unique index on the lower-cased
 * target (DuckDB matches identifiers case-insensitively) keeps two registrations from sharing one.
 *
 * All statements use bind parameters; names are stored exactly as Snowflake stores them.
 */
import type pg from 'pg';
import { snowflakeStoredName } from '../../sql/quote.js';
import { defaultTarget, type TargetTable } from './sql.js';

/** Snowflake column as recorded in table_metadata.columns. */
export interface RecordedColumn {
  name: string;
  type: string;
  nullable: boolean;
  precision: number | null;
  scale: number | null;
  length: number | null;
}

/** A row of allowed_tables (API shape). */
export interface RegisteredTable {
  table_id: string;
  database_name: string;
  schema_name: string;
  table_name: string;
  source: string;
  status: string;
  primary_key: string[] | null;
  watermark_column: string | null;
  /** DuckDB schema and table this registration writes. */
  target_schema: string;
  target_table: string;
  created_at: string;
}

/** Another registration already writes the requested DuckDB target. */
export class TargetTakenError extends Error {
  constructor(
    readonly target: TargetTable,
    readonly other: Pick<RegisteredTable, 'table_id' | 'database_name' | 'schema_name' | 'table_name'>,
  ) {
    super(
      `DuckDB target ${target.schema}.${target.table} is already written by the registration of ${other.database_name}.${other.schema_name}.${other.table_name} (table_id ${other.table_id}); choose another target_schema / target_table`,
    );
    this.name = 'TargetTakenError';
  }
}

/** Input of {@link registerTable}: names as Snowflake stores them. */
export interface RegisterTableInput {
  database: string;
  schema: string;
  table: string;
  /** undefined keeps the stored value on re-register; null clears it. */
  primaryKey: string[] | null | undefined;
  watermarkColumn: string | null | undefined;
  /** DuckDB target; a part left undefined keeps the stored one on re-register, or {@link defaultTarget}'s for a new registration. */
  target: Partial<TargetTable>;
  columns: RecordedColumn[];
  rowCount: string | null;
  sizeBytes: string | null;
  lastAltered: string | null;
}

type Row = Record<string, unknown>;
const isoOrNull = (v: unknown): string | null =>
  v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v);

function toRegistered(r: Row): RegisteredTable {
  return {
    table_id: String(r.table_id),
    database_name: String(r.database_name),
    schema_name: String(r.schema_name),
    table_name: String(r.table_name),
    source: String(r.source ?? 'snowflake'),
    status: String(r.status ?? 'active'),
    primary_key: (r.primary_key as string[] | null) ?? null,
    watermark_column: (r.watermark_column as string | null) ?? null,
    target_schema: String(r.target_schema),
    target_table: String(r.target_table),
    created_at: isoOrNull(r.created_at) ?? '',
  };
}

/** The unique index on the lower-cased target (migrations/0007). */
const TARGET_INDEX = 'allowed_tables_target_key';

/**
 * Insert or update a registration and its metadata in one transaction. Re-registering the same
 * table keeps its table_id and updates keys given (undefined keeps, null clears). A changed target
 * forgets the table's last sync status (it described the old target). Returns the row and whether
 * it was created. Throws {@link TargetTakenError} when another registration writes the target.
 */
export async function registerTable(
  pool: pg.Pool,
  input: RegisterTableInput,
): Promise<{ table: RegisteredTable; created: boolean }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows: existing } = await client.query(
      'SELECT * FROM allowed_tables WHERE database_name = $1 AND schema_name = $2 AND table_name = $3 FOR UPDATE',
      [input.database, input.schema, input.table],
    );
    const old = existing[0] as Row | undefined;
    const current = old ? { schema: String(old.target_schema), table: String(old.target_table) } : defaultTarget(input);
    const target = { schema: input.target.schema ?? current.schema, table: input.target.table ?? current.table };
    await refuseTakenTarget(client, target, old ? String(old.table_id) : null);
    let row: Row;
    try {
      ({
        rows: [row],
      } = await client.query(
        `INSERT INTO allowed_tables (table_id, database_name, schema_name, table_name, source, status, primary_key, watermark_column, target_schema, target_table)
         VALUES (gen_random_uuid(), $1, $2, $3, 'snowflake', 'active', $4::text[], $5, $8, $9)
         ON CONFLICT (database_name, schema_name, table_name) DO UPDATE SET
           status = 'active',
           primary_key = CASE WHEN $6 THEN excluded.primary_key ELSE allowed_tables.primary_key END,
           watermark_column = CASE WHEN $7 THEN excluded.watermark_column ELSE allowed_tables.watermark_column END,
           target_schema = excluded.target_schema,
           target_table = excluded.target_table,
           updated_at = now()
         RETURNING *, (xmax = 0) AS inserted`,
        [
          input.database,
          input.schema,
          input.table,
          input.primaryKey ?? null,
          input.watermarkColumn ?? null,
          input.primaryKey !== undefined,
          input.watermarkColumn !== undefined,
          target.schema,
          target.table,
        ],
      ));
    } catch (err) {
      // Another registration took the target between the check and the insert.
      if (
        (err as { code?: string; constraint?: string }).code === '23505' &&
        (err as { constraint?: string }).constraint === TARGET_INDEX
      ) {
        await client.query('ROLLBACK');
        await refuseTakenTarget(pool, target, old ? String(old.table_id) : null);
      }
      throw err;
    }
    if (old && (old.target_schema !== target.schema || old.target_table !== target.table)) {
      await client.query('DELETE FROM table_sync_status WHERE table_id = $1', [row.table_id]);
    }
    await client.query(
      `INSERT INTO table_metadata (table_id, columns, column_count, row_count, size_bytes, last_altered, last_updated)
       VALUES ($1, $2::jsonb, $3, $4::bigint, $5::bigint, $6::timestamptz, now())
       ON CONFLICT (table_id) DO UPDATE SET
         columns = excluded.columns, column_count = excluded.column_count, row_count = excluded.row_count,
         size_bytes = excluded.size_bytes, last_altered = excluded.last_altered, last_updated = now()`,
      [
        row.table_id,
        JSON.stringify(input.columns),
        input.columns.length,
        input.rowCount,
        input.sizeBytes,
        input.lastAltered,
      ],
    );
    await client.query('COMMIT');
    return { table: toRegistered(row), created: row.inserted === true };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Throw {@link TargetTakenError} when a registration other than `self` writes `target` (compared case-insensitively). */
async function refuseTakenTarget(db: pg.Pool | pg.PoolClient, target: TargetTable, self: string | null): Promise<void> {
  const { rows } = await db.query(
    `SELECT * FROM allowed_tables WHERE lower(target_schema) = lower($1) AND lower(target_table) = lower($2) AND ($3::uuid IS NULL OR table_id <> $3::uuid)`,
    [target.schema, target.table, self],
  );
  if (rows[0]) throw new TargetTakenError(target, toRegistered(rows[0] as Row));
}

/**
 * Find a registered table by the names a user wrote, resolved by Snowflake's identifier rules
 * ({@link snowflakeStoredName}: `tpch_sf1` is `TPCH_SF1`, `"data"` is exactly `data`). `database`
 * undefined matches any database (the most recently registered one wins when a schema.table exists in
 * several).
 */
export async function findRegisteredTable(
  pool: pg.Pool,
  database: string | undefined,
  schema: string,
  table: string,
): Promise<RegisteredTable | null> {
  const { rows } = await pool.query(
    `SELECT * FROM allowed_tables
      WHERE ($1::text IS NULL OR database_name = $1) AND schema_name = $2 AND table_name = $3
      ORDER BY created_at DESC
      LIMIT 1`,
    [
      database === undefined ? null : snowflakeStoredName(database),
      snowflakeStoredName(schema),
      snowflakeStoredName(table),
    ],
  );
  return rows[0] ? toRegistered(rows[0] as Row) : null;
}

/** Sync status of a registered table (allowed_tables ⋈ table_metadata ⋈ table_sync_status). */
export interface TableStatusRow {
  table: RegisteredTable;
  column_count: number | null;
  source_row_count: string | null;
  source_size_bytes: string | null;
  source_last_altered: string | null;
  last_sync_id: string | null;
  last_sync_status: string | null;
  last_sync_at: string | null;
  last_error: string | null;
  rows_synced: string | null;
  watermark: string | null;
}

/** Status of a registered table (migrations/0001: table_metadata, table_sync_status). */
export async function tableStatus(pool: pg.Pool, t: RegisteredTable): Promise<TableStatusRow> {
  const { rows: meta } = await pool.query('SELECT * FROM table_metadata WHERE table_id = $1', [t.table_id]);
  const { rows: st } = await pool.query('SELECT * FROM table_sync_status WHERE table_id = $1', [t.table_id]);
  const m = (meta[0] ?? {}) as Row;
  const s = (st[0] ?? {}) as Row;
  const text = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));
  return {
    table: t,
    column_count: m.column_count === undefined || m.column_count === null ? null : Number(m.column_count),
    source_row_count: text(m.row_count),
    source_size_bytes: text(m.size_bytes),
    source_last_altered: isoOrNull(m.last_altered),
    last_sync_id: text(s.last_job_id),
    last_sync_status: text(s.last_sync_status),
    last_sync_at: isoOrNull(s.last_sync_at),
    last_error: text(s.last_error),
    rows_synced: text(s.row_count),
    watermark: text(s.high_water_mark),
  };
}
