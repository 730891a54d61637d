/**
 * The table sync routes, under /api/v1, admin tokens only:
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
 * | POST /sample_data | 200 JSON `{..., columns, rows}` / `text/csv` / Parquet bytes | 400, 404 not registered or not synced yet, 409 target being written |
 * | POST /sync/schedules | 201 created | 400, 404 table, 409 schedule exists, 422 incremental w/o watermark |
 * | GET  /sync/schedules | 200 {schedules} | |
 * | DELETE /sync/schedules/{schedule_id} | 200 deleted | 404 |
 *
 * The job log is Temporal (src/client/tableSync.ts); registrations and status are PostgreSQL
 * (src/jobs/table-sync/store.ts), the target is the DuckDB file (src/jobs/table-sync/target.ts).
 */
import { Router } from 'express';
import {
  cancelJob,
  createTableSyncSchedule,
  deleteTableSyncSchedule,
  findRunningJob,
  getJob,
  listJobs,
  listTableSyncSchedules,
  startTableSync,
} from '../../client/tableSync.js';
import type { ApiDeps } from '../deps.js';
import { defaultDatabase } from '../deps.js';
import { ApiError, badRequest, conflict, notFound, parseInput } from '../errors.js';
import { route } from '../openapi/operations.js';
import * as ops from '../operations/tableSync.js';
import { describeSnowflakeTable, listSnowflakeTables } from '../../jobs/table-sync/catalog.js';
import { qualifiedTableName, targetKey } from '../../jobs/table-sync/names.js';
import {
  databaseOf,
  recordColumn,
  registrationKeys,
  requireRegistered,
  snowflakeCall,
  syncInputFor,
} from '../../jobs/table-sync/registration.js';
import {
  createScheduleRequest,
  jobParams,
  listJobsQuery,
  listTablesParams,
  listTablesQuery,
  registerRequest,
  sampleRequest,
  scheduleParams,
  startRequest,
  tableStatusParams,
  tableStatusQuery,
} from '../../jobs/table-sync/requests.js';
import { findRegisteredTable, registerTable, tableStatus } from '../../jobs/table-sync/store.js';
import {
  sampleTarget,
  targetNameOf,
  targetReport,
  TargetBusyError,
  TargetTableMissingError,
} from '../../jobs/table-sync/target.js';

/** Router with every table sync route (mount under /api/v1 after authentication). */
export function tableSyncRouter(deps: ApiDeps): Router {
  const router = Router();
  const taskQueue = deps.config.temporal.taskQueue;

  route(router, ops.listTables, async (req, res) => {
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

  route(router, ops.registerTable, async (req, res) => {
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
    const { primaryKey, watermarkColumn } = registrationKeys(resolved, body);

    const { table, created } = await registerTable(deps.pool, {
      database: resolved.database,
      schema: resolved.schema,
      table: resolved.table,
      primaryKey,
      watermarkColumn,
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

  route(router, ops.startSync, async (req, res) => {
    const body = parseInput(startRequest, req.body, 'body');
    const t = await requireRegistered(deps, body);
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

  route(router, ops.listSyncJobs, async (req, res) => {
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

  route(router, ops.getSyncJob, async (req, res) => {
    const { job_id } = parseInput(jobParams, req.params, 'params');
    res.json(await getJob(deps.temporal, job_id));
  });

  route(router, ops.cancelSyncJob, async (req, res) => {
    const { job_id } = parseInput(jobParams, req.params, 'params');
    await cancelJob(deps.temporal, job_id);
    deps.logger.info({ requestId: res.locals.requestId, jobId: job_id }, 'sync cancellation requested');
    res.status(202).json({ job_id, status: 'cancelling' });
  });

  route(router, ops.tableStatus, async (req, res) => {
    const { schema, table } = parseInput(tableStatusParams, req.params, 'params');
    const q = parseInput(tableStatusQuery, req.query, 'query');
    const reg = await findRegisteredTable(deps.pool, q.database ?? defaultDatabase(deps), schema, table);
    if (!reg) throw notFound(`table ${schema}.${table} is not registered`, 'table');
    const status = await tableStatus(deps.pool, reg);
    const target = targetNameOf(reg);
    const duckdb = await targetReport(deps.duckdbPath, target);
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

  route(router, ops.sampleData, async (req, res) => {
    const body = parseInput(sampleRequest, req.body, 'body');
    const t = await requireRegistered(deps, body);
    const target = targetNameOf(t);
    let sample;
    try {
      sample = await sampleTarget(deps.duckdbPath, target, {
        type: body.sample_type,
        size: body.sample_size,
        format: body.output_format,
        orderBy: t.primary_key,
      });
    } catch (err) {
      if (err instanceof TargetTableMissingError)
        throw new ApiError(
          404,
          'table_not_synced',
          `table ${t.database_name}.${t.schema_name}.${t.table_name} has not been synced yet (${err.message})`,
          'table_name',
        );
      if (err instanceof TargetBusyError) throw conflict(`target is being written: ${err.message}`);
      throw err;
    }
    if (sample.format === 'JSON') {
      res.json({
        table_id: t.table_id,
        database_name: t.database_name,
        schema_name: t.schema_name,
        table_name: t.table_name,
        target_schema: target.schema,
        target_table: target.table,
        sample_type: body.sample_type,
        sample_size: body.sample_size,
        output_format: 'JSON',
        row_count: sample.rows.length,
        columns: sample.columns,
        rows: sample.rows,
      });
      return;
    }
    const ext = sample.format === 'CSV' ? 'csv' : 'parquet';
    res
      .status(200)
      .type(sample.contentType)
      .set(
        'Content-Disposition',
        `attachment; filename="${`${t.schema_name}.${t.table_name}`.replace(/[^A-Za-z0-9_.-]/g, '_')}.sample.${ext}"`,
      )
      .send(sample.body);
  });

  route(router, ops.createSchedule, async (req, res) => {
    const body = parseInput(createScheduleRequest, req.body, 'body');
    const t = await requireRegistered(deps, body);
    const input = syncInputFor(t, body);
    const when = body.cron !== undefined ? { cron: body.cron } : { intervalSeconds: body.interval_seconds! };
    let scheduleId: string;
    try {
      ({ scheduleId } = await createTableSyncSchedule(deps.temporal, input, when, { taskQueue }));
    } catch (err) {
      // Temporal rejects a cron it cannot parse with INVALID_ARGUMENT (gRPC code 3).
      if (body.cron !== undefined && (err as { code?: unknown })?.code === 3)
        throw new ApiError(400, 'invalid_request', `body field 'cron': ${(err as Error).message}`, 'cron');
      throw err;
    }
    deps.logger.info({ requestId: res.locals.requestId, scheduleId }, 'schedule created');
    res
      .status(201)
      .location(`/api/v1/sync/schedules/${encodeURIComponent(scheduleId)}`)
      .json({
        schedule_id: scheduleId,
        table_id: t.table_id,
        database_name: t.database_name,
        schema_name: t.schema_name,
        table_name: t.table_name,
        strategy: input.strategy,
        method: input.method,
        interval_seconds: body.interval_seconds ?? null,
        cron: body.cron ?? null,
        overlap: 'skip',
      });
  });

  route(router, ops.listSchedules, async (_req, res) => {
    const schedules = await listTableSyncSchedules(deps.temporal);
    res.json({ count: schedules.length, schedules });
  });

  route(router, ops.deleteSchedule, async (req, res) => {
    const { schedule_id } = parseInput(scheduleParams, req.params, 'params');
    await deleteTableSyncSchedule(deps.temporal, schedule_id);
    deps.logger.info({ requestId: res.locals.requestId, scheduleId: schedule_id }, 'schedule deleted');
    res.json({ schedule_id, deleted: true });
  });

  return router;
}
