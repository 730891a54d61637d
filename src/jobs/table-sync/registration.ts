/**
 * What the table sync routes decide before they touch Temporal: which database a request means, which
 * registered table it names, whether a primary key / watermark column fits the table, and the workflow
 * input of a registered table. Errors are {@link ApiError}s naming the request field (400, 404, 422),
 * and Snowflake failures are mapped to 404 (missing object) or 502 (upstream fault).
 */
import { withSnowflake, type SnowflakeSession } from '../../connectors/snowflake.js';
import type { ApiDeps } from '../../api/deps.js';
import { defaultDatabase } from '../../api/deps.js';
import { ApiError, badRequest, unprocessable } from '../../api/errors.js';
import { snowflakeStoredName } from '../../sql/quote.js';
import { mapColumn, UnsupportedTypeError, type SnowflakeFamily } from '../../sql/typemap.js';
import { KEY_FAMILIES, WATERMARK_FAMILIES } from '../../sql/values.js';
import { SnowflakeObjectNotFoundError, type ResolvedTable, type SnowflakeColumnInfo } from './catalog.js';
import type { TableSyncInput } from './contract.js';
import { qualifiedTableName } from './names.js';
import { findRegisteredTable, type RecordedColumn, type RegisteredTable } from './store.js';

/** The database a request means: its own, else SNOWFLAKE_DATABASE; 400 naming the field if neither. */
export function databaseOf(deps: ApiDeps, given: string | undefined, field = 'database_name'): string {
  const db = given ?? defaultDatabase(deps);
  if (!db) throw badRequest(`${field} is required (no default SNOWFLAKE_DATABASE is configured)`, field);
  return db;
}

/**
 * Run `fn` with a Snowflake session; missing objects become 404 naming the field, other Snowflake
 * failures 502 (logged: an upstream fault, not the client's).
 */
export async function snowflakeCall<T>(
  deps: ApiDeps,
  requestId: string,
  fields: { database: string; schema: string; table?: string },
  fn: (s: SnowflakeSession) => Promise<T>,
): Promise<T> {
  try {
    return await withSnowflake(deps.snowflake, fn);
  } catch (err) {
    if (err instanceof SnowflakeObjectNotFoundError) {
      const byWhat = { database: fields.database, schema: fields.schema, table: fields.table ?? fields.schema };
      throw new ApiError(404, `${err.what}_not_found`, err.message, byWhat[err.what]);
    }
    if (err instanceof ApiError) throw err;
    deps.logger.error({ err, requestId }, 'Snowflake request failed');
    const code = (err as { code?: unknown })?.code;
    throw new ApiError(
      502,
      'snowflake_error',
      `Snowflake request failed${code ? ` (code ${String(code)})` : ''}: ${(err as Error)?.message ?? String(err)}`,
    );
  }
}

/**
 * The registered table a request body names (`database_name` defaulting to SNOWFLAKE_DATABASE), or
 * 404 naming `table_name`.
 */
export async function requireRegistered(
  deps: ApiDeps,
  ref: { database_name?: string; schema_name: string; table_name: string },
): Promise<RegisteredTable> {
  const database = ref.database_name ?? defaultDatabase(deps);
  const t = await findRegisteredTable(deps.pool, database, ref.schema_name, ref.table_name);
  if (!t) {
    const name = [...(database ? [database] : []), ref.schema_name, ref.table_name].map(snowflakeStoredName).join('.');
    throw new ApiError(
      404,
      'table_not_registered',
      `table ${name} is not registered; POST /api/v1/sync/tables/register first`,
      'table_name',
    );
  }
  return t;
}

/** A Snowflake column as `table_metadata.columns` records it. */
export function recordColumn(c: SnowflakeColumnInfo): RecordedColumn {
  const n = (v: string | null): number | null => (v === null || v === '' ? null : Number(v));
  return {
    name: c.COLUMN_NAME,
    type: c.DATA_TYPE,
    nullable: String(c.IS_NULLABLE ?? 'YES').toUpperCase() !== 'NO',
    precision: n(c.NUMERIC_PRECISION),
    scale: n(c.NUMERIC_SCALE),
    length: n(c.CHARACTER_MAXIMUM_LENGTH),
  };
}

/**
 * The column of `resolved` a user-given name means, by Snowflake's identifier rules
 * ({@link snowflakeStoredName}: `o_orderkey` is `O_ORDERKEY`, `"id"` is exactly `id`), with its type
 * family (src/sql/typemap.ts; null for types floe cannot sync, such as GEOGRAPHY).
 */
function resolveColumn(
  resolved: ResolvedTable,
  name: string,
): { column: SnowflakeColumnInfo; family: SnowflakeFamily | null } | undefined {
  const stored = snowflakeStoredName(name);
  const column = resolved.columns.find((c) => c.COLUMN_NAME === stored);
  if (!column) return undefined;
  try {
    return { column, family: mapColumn(`${resolved.database}.${resolved.schema}.${resolved.table}`, column).family };
  } catch (err) {
    if (err instanceof UnsupportedTypeError) return { column, family: null };
    throw err;
  }
}

/**
 * The primary key and watermark column of a registration request, as the table's own column names.
 * `undefined` keeps the stored value, `null` clears it. 422 naming the field for a column the table
 * lacks, a key column that is not a number, text, date, timestamp or boolean, a watermark that is not
 * a NUMBER, FLOAT, DATE or TIMESTAMP, or a column named twice in the key.
 */
export function registrationKeys(
  resolved: ResolvedTable,
  body: { primary_key?: string | string[] | null; watermark_column?: string | null },
): { primaryKey: string[] | null | undefined; watermarkColumn: string | null | undefined } {
  const fq = `${resolved.database}.${resolved.schema}.${resolved.table}`;
  let primaryKey: string[] | null | undefined = body.primary_key === null ? null : undefined;
  if (body.primary_key !== undefined && body.primary_key !== null) {
    const names = Array.isArray(body.primary_key) ? body.primary_key : [body.primary_key];
    primaryKey = names.map((name, i) => {
      const field = Array.isArray(body.primary_key) ? `primary_key.${i}` : 'primary_key';
      const col = resolveColumn(resolved, name);
      if (!col) throw unprocessable(`primary_key column '${name}' does not exist in ${fq}`, field);
      if (!col.family || !KEY_FAMILIES.includes(col.family))
        throw unprocessable(
          `primary_key column '${col.column.COLUMN_NAME}' has type ${col.column.DATA_TYPE}; a key must be a number, text, date, timestamp or boolean column`,
          field,
        );
      return col.column.COLUMN_NAME;
    });
    if (new Set(primaryKey).size !== primaryKey.length)
      throw unprocessable('primary_key names a column twice', 'primary_key');
  }
  let watermarkColumn: string | null | undefined = body.watermark_column === null ? null : undefined;
  if (body.watermark_column !== undefined && body.watermark_column !== null) {
    const col = resolveColumn(resolved, body.watermark_column);
    if (!col)
      throw unprocessable(`watermark_column '${body.watermark_column}' does not exist in ${fq}`, 'watermark_column');
    if (!col.family || !WATERMARK_FAMILIES.includes(col.family))
      throw unprocessable(
        `watermark_column '${col.column.COLUMN_NAME}' has type ${col.column.DATA_TYPE}; a watermark must be a NUMBER, FLOAT, DATE or TIMESTAMP column`,
        'watermark_column',
      );
    watermarkColumn = col.column.COLUMN_NAME;
  }
  return { primaryKey, watermarkColumn };
}

/**
 * The workflow input for a registered table (names only, no credentials). 422 for an
 * incremental sync without a watermark column, or with `lag_seconds` > 0 but no primary key.
 */
export function syncInputFor(
  t: RegisteredTable,
  body: { strategy: 'full' | 'incremental'; method: 'auto' | 'stage' | 'stream'; lag_seconds?: number },
): TableSyncInput {
  const name = qualifiedTableName({ database: t.database_name, schema: t.schema_name, table: t.table_name });
  if (body.strategy === 'incremental' && !t.watermark_column) {
    throw unprocessable(
      `strategy 'incremental' needs a watermark column, and ${name} has none; register it with watermark_column`,
      'strategy',
    );
  }
  if (body.strategy === 'incremental' && (body.lag_seconds ?? 0) > 0 && !t.primary_key?.length) {
    throw unprocessable(
      `lag_seconds needs a primary key: ${name} has none, and rows re-read from before the high-water mark would be appended a second time; register it with primary_key, or leave lag_seconds out`,
      'lag_seconds',
    );
  }
  return {
    tableId: t.table_id,
    database: t.database_name,
    schema: t.schema_name,
    table: t.table_name,
    target: { schema: t.target_schema, table: t.target_table },
    strategy: body.strategy,
    method: body.method,
    ...(body.lag_seconds !== undefined ? { lagSeconds: body.lag_seconds } : {}),
    ...(t.watermark_column ? { watermarkColumn: t.watermark_column } : {}),
    ...(t.primary_key && t.primary_key.length > 0 ? { primaryKey: t.primary_key } : {}),
  };
}
