/**
 * Table sync routes (seed 001 §2–5 and "Verification Steps"), under /api/v1, all authenticated:
 *
 * | route | success | errors |
 * |---|---|---|
 * | GET  /sync/tables/{schema}?database= | 200 tables with rows, bytes, last_altered | 404 database/schema, 502 Snowflake |
 * | POST /sync/tables/register | 201 created / 200 updated | 400, 404 table, 409 target taken, 422 primary_key/watermark_column |
 * | POST /sync/start | 202 {job_id, status:'pending', ...} | 400, 404 not registered, 409 running, 422 incremental w/o watermark, lag_seconds w/o primary key |
 * | GET  /sync/jobs/{job_id} | 200 job (stats, error, progress) | 404 |
 * | GET  /sync/jobs?table=&status=&limit= | 200 {jobs} | 400 |
 * | POST /sync/jobs/{job_id}/cancel | 202 {job_id, status:'cancelling'} | 404, 409 finished |
 * | GET  /sync/tables/{schema}/{table}/status?database= | 200 registration + last sync + DuckDB target | 404 not registered |
 *
 * The job log is Temporal (src/client/tableSync.ts); registrations and status are PostgreSQL
 * (src/client/tables.ts).
 */
import { Router } from 'express';
import type { TableSyncInput } from '../../jobs/tableSync.js';
import { withSnowflake, type SnowflakeSession } from '../../connectors/snowflake.js';
import {
  findRunningJob,
  getJob,
  listJobs,
  cancelJob,
  startTableSync,
  qualifiedTableName,
  targetKey,
} from '../../client/tableSync.js';
import {
  findRegisteredTable,
  registerTable,
  tableStatus,
  type RecordedColumn,
  type RegisteredTable,
} from '../../client/tables.js';
import type { ApiDeps } from '../deps.js';
import { defaultDatabase } from '../deps.js';
import { ApiError, badRequest, notFound, parseInput, unprocessable } from '../errors.js';
import {
  jobParams,
  listJobsQuery,
  listTablesParams,
  listTablesQuery,
  registerRequest,
  startRequest,
  tableStatusParams,
  tableStatusQuery,
} from '../schemas.js';
import {
  describeSnowflakeTable,
  listSnowflakeTables,
  SnowflakeObjectNotFoundError,
  type SnowflakeColumnInfo,
} from '../snowflakeCatalog.js';
import { targetNameOf, targetState, TargetBusyError } from '../duckdbTarget.js';
import { mapColumn, UnsupportedTypeError, type SnowflakeFamily } from '../../sql/typemap.js';
import { KEY_FAMILIES, WATERMARK_FAMILIES } from '../../sql/values.js';

/** Type family of a column (src/sql/typemap.ts), or null for types floe cannot sync (GEOGRAPHY, ...). */
function familyOf(fq: string, c: SnowflakeColumnInfo): SnowflakeFamily | null {
  try {
    return mapColumn(fq, c).family;
  } catch (err) {
    if (err instanceof UnsupportedTypeError) return null;
    throw err;
  }
}

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
      const field =
        err.what === 'database'
          ? fields.database
          : err.what === 'schema'
            ? fields.schema
            : (fields.table ?? fields.schema);
      throw new ApiError(404, `${err.what}_not_found`, err.message, field);
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

function recordColumn(c: SnowflakeColumnInfo): RecordedColumn {
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

/** Match a user-given column name against the table's: exactly, else case-insensitively if unique. */
function resolveColumn(columns: RecordedColumn[], name: string): RecordedColumn | undefined {
  const exact = columns.find((c) => c.name === name);
  if (exact) return exact;
  const folded = columns.filter((c) => c.name.toUpperCase() === name.toUpperCase());
  return folded.length === 1 ? folded[0] : undefined;
}

/** A registered table or 404 naming `table_name`. */
export async function requireRegistered(
  deps: ApiDeps,
  database: string | undefined,
  schema: string,
  table: string,
): Promise<RegisteredTable> {
  const t = await findRegisteredTable(deps.pool, database, schema, table);
  if (!t) {
    const name = `${database ? `${database}.` : ''}${schema}.${table}`;
    throw new ApiError(
      404,
      'table_not_registered',
      `table ${name} is not registered; POST /api/v1/sync/tables/register first`,
      'table_name',
    );
  }
  return t;
}

/**
 * The workflow input for a registered table (names only, no credentials). 422 for an
 * incremental sync without a watermark column, or with `lag_seconds` > 0 but no primary key.
 */
export function syncInputFor(
  t: RegisteredTable,
  body: { strategy: 'full' | 'incremental'; method: 'auto' | 'stage' | 'stream'; lag_seconds?: number },
): TableSyncInput {
  if (body.strategy === 'incremental' && !t.watermark_column) {
    throw unprocessable(
      `strategy 'incremental' needs a watermark column, and ${qualifiedTableName({ database: t.database_name, schema: t.schema_name, table: t.table_name })} has none; register it with watermark_column`,
      'strategy',
    );
  }
  if (body.strategy === 'incremental' && (body.lag_seconds ?? 0) > 0 && !t.primary_key?.length) {
    throw unprocessable(
      `lag_seconds needs a primary key: ${qualifiedTableName({ database: t.database_name, schema: t.schema_name, table: t.table_name })} has none, and rows re-read from before the high-water mark would be appended a second time; register it with primary_key, or leave lag_seconds out`,
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

/** Router with the table sync routes (mount under /api/v1 after authentication). */
export function syncRouter(deps: ApiDeps): Router {
  const router = Router();
  const taskQueue = deps.config.temporal.taskQueue;

  router.get('/sync/tables/:schema', async (req, res) => {
    const { schema } = parseInput(listTablesParams, req.params, 'params');
    const query = parseInput(listTablesQuery, req.query, 'query');
    const database = databaseOf(deps, query.database, 'database');
    const tables = await snowflakeCall(deps, res.locals.requestId, { database: 'database', schema: 'schema' }, (s) =>
      listSnowflakeTables(s, database, schema),
    );
    res.json({
      database: tables[0]?.database ?? database,
      schema: tables[0]?.schema ?? schema,
      count: tables.length,
      tables: tables.map((t) => ({
        name: t.name,
        rows: t.rows,
        bytes: t.bytes,
        last_altered: t.last_altered,
        kind: t.kind,
      })),
    });
  });

  router.post('/sync/tables/register', async (req, res) => {
    const body = parseInput(registerRequest, req.body, 'body');
    const database = databaseOf(deps, body.database_name);
    const resolved = await snowflakeCall(
      deps,
      res.locals.requestId,
      { database: 'database_name', schema: 'schema_name', table: 'table_name' },
      (s) => describeSnowflakeTable(s, database, body.schema_name, body.table_name),
    );
    const columns = resolved.columns.map(recordColumn);
    const fq = `${resolved.database}.${resolved.schema}.${resolved.table}`;

    let primaryKey: string[] | null | undefined = undefined;
    if (body.primary_key === null) primaryKey = null;
    else if (body.primary_key !== undefined) {
      const names = Array.isArray(body.primary_key) ? body.primary_key : [body.primary_key];
      primaryKey = names.map((name, i) => {
        const col = resolveColumn(columns, name);
        const field = Array.isArray(body.primary_key) ? `primary_key.${i}` : 'primary_key';
        if (!col) throw unprocessable(`primary_key column '${name}' does not exist in ${fq}`, field);
        const family = familyOf(
          fq,
          resolved.columns.find((c) => c.COLUMN_NAME === col.name)!,
        );
        if (!family || !KEY_FAMILIES.includes(family))
          throw unprocessable(
            `primary_key column '${col.name}' has type ${col.type}; a key must be a number, text, date, timestamp or boolean column`,
            field,
          );
        return col.name;
      });
      if (new Set(primaryKey).size !== primaryKey.length)
        throw unprocessable('primary_key names a column twice', 'primary_key');
    }
    let watermark: string | null | undefined = undefined;
    if (body.watermark_column === null) watermark = null;
    else if (body.watermark_column !== undefined) {
      const col = resolveColumn(columns, body.watermark_column);
      if (!col)
        throw unprocessable(`watermark_column '${body.watermark_column}' does not exist in ${fq}`, 'watermark_column');
      const family = familyOf(
        fq,
        resolved.columns.find((c) => c.COLUMN_NAME === col.name)!,
      );
      if (!family || !WATERMARK_FAMILIES.includes(family))
        throw unprocessable(
          `watermark_column '${col.name}' has type ${col.type}; a watermark must be a NUMBER, FLOAT, DATE or TIMESTAMP column`,
          'watermark_column',
        );
      watermark = col.name;
    }

    const { table, created } = await registerTable(deps.pool, {
      database: resolved.database,
      schema: resolved.schema,
      table: resolved.table,
      primaryKey,
      watermarkColumn: watermark,
      target: { schema: body.target_schema, table: body.target_table },
      columns,
      rowCount: resolved.rows,
      sizeBytes: resolved.bytes,
      lastAltered: resolved.last_altered,
    });
    deps.logger.info(
      { requestId: res.locals.requestId, table: fq, tableId: table.table_id, created },
      'table registered',
    );
    res.status(created ? 201 : 200).json({
      ...table,
      created,
      column_count: columns.length,
      columns,
      row_count: resolved.rows,
      size_bytes: resolved.bytes,
      last_altered: resolved.last_altered,
    });
  });

  router.post('/sync/start', async (req, res) => {
    const body = parseInput(startRequest, req.body, 'body');
    const t = await requireRegistered(
      deps,
      body.database_name ?? defaultDatabase(deps),
      body.schema_name,
      body.table_name,
    );
    const input = syncInputFor(t, body);
    // Serialize check-and-start per target across API processes (DuckDB matches names
    // case-insensitively, so the key is lower-cased); Temporal visibility answers the check.
    const client = await deps.pool.connect();
    let started: { jobId: string; runId: string };
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `floe.tableSync:${targetKey(input.target!).toLowerCase()}`,
      ]);
      started = await startTableSync(deps.temporal, input, { taskQueue });
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    deps.logger.info(
      {
        requestId: res.locals.requestId,
        jobId: started.jobId,
        table: qualifiedTableName(input),
        strategy: input.strategy,
      },
      'sync started',
    );
    res
      .status(202)
      .location(`/api/v1/sync/jobs/${encodeURIComponent(started.jobId)}`)
      .json({
        job_id: started.jobId,
        status: 'pending',
        table_id: t.table_id,
        table: qualifiedTableName(input),
        database_name: t.database_name,
        schema_name: t.schema_name,
        table_name: t.table_name,
        target_schema: t.target_schema,
        target_table: t.target_table,
        strategy: input.strategy,
        method: input.method,
        started_at: new Date().toISOString(),
      });
  });

  router.get('/sync/jobs', async (req, res) => {
    const q = parseInput(listJobsQuery, req.query, 'query');
    let table: string | undefined;
    if (q.table) {
      const parts = q.table.split('.');
      if (parts.length !== 2 && parts.length !== 3)
        throw badRequest("query field 'table': must be DATABASE.SCHEMA.TABLE or SCHEMA.TABLE", 'table');
      const [db, schema, name] = parts.length === 3 ? parts : [databaseOf(deps, undefined, 'table'), ...parts];
      const reg = await findRegisteredTable(deps.pool, db, schema!, name!);
      table = reg
        ? qualifiedTableName({ database: reg.database_name, schema: reg.schema_name, table: reg.table_name })
        : `${db}.${schema}.${name}`;
    }
    const jobs = await listJobs(deps.temporal, { table, status: q.status, limit: q.limit });
    res.json({ count: jobs.length, jobs });
  });

  router.get('/sync/jobs/:job_id', async (req, res) => {
    const { job_id } = parseInput(jobParams, req.params, 'params');
    res.json(await getJob(deps.temporal, job_id));
  });

  router.post('/sync/jobs/:job_id/cancel', async (req, res) => {
    const { job_id } = parseInput(jobParams, req.params, 'params');
    await cancelJob(deps.temporal, job_id);
    deps.logger.info({ requestId: res.locals.requestId, jobId: job_id }, 'sync cancellation requested');
    res.status(202).json({ job_id, status: 'cancelling' });
  });

  router.get('/sync/tables/:schema/:table/status', async (req, res) => {
    const { schema, table } = parseInput(tableStatusParams, req.params, 'params');
    const q = parseInput(tableStatusQuery, req.query, 'query');
    const reg = await findRegisteredTable(deps.pool, q.database ?? defaultDatabase(deps), schema, table);
    if (!reg) throw notFound(`table ${schema}.${table} is not registered`, 'table');
    const status = await tableStatus(deps.pool, reg);
    const target = targetNameOf(reg);
    let duckdb: Record<string, unknown>;
    try {
      duckdb = {
        path: deps.duckdbPath,
        table: `${target.schema}.${target.table}`,
        busy: false,
        ...(await targetState(deps.duckdbPath, target)),
      };
    } catch (err) {
      if (!(err instanceof TargetBusyError)) throw err;
      duckdb = {
        path: deps.duckdbPath,
        table: `${target.schema}.${target.table}`,
        busy: true,
        exists: null,
        row_count: null,
        message: err.message,
      };
    }
    const running = await findRunningJob(
      deps.temporal,
      { database: reg.database_name, schema: reg.schema_name, table: reg.table_name },
      target,
    );
    res.json({
      table_id: reg.table_id,
      database_name: reg.database_name,
      schema_name: reg.schema_name,
      table_name: reg.table_name,
      status: reg.status,
      primary_key: reg.primary_key,
      watermark_column: reg.watermark_column,
      target_schema: reg.target_schema,
      target_table: reg.target_table,
      registered_at: reg.created_at,
      source: {
        column_count: status.column_count,
        row_count: status.source_row_count,
        size_bytes: status.source_size_bytes,
        last_altered: status.source_last_altered,
      },
      last_sync_id: status.last_sync_id,
      last_sync_status: status.last_sync_status,
      last_sync_at: status.last_sync_at,
      last_error: status.last_error,
      row_count: status.rows_synced,
      watermark: status.watermark,
      running_job_id: running,
      duckdb,
    });
  });

  return router;
}
