/**
 * `POST /api/v1/sample_data` (seed 001 "Verify Data Sample") and the schedule routes
 * `POST|GET /api/v1/sync/schedules`, `DELETE /api/v1/sync/schedules/{schedule_id}`.
 *
 * Sample: 200 JSON `{..., columns, rows}` / `text/csv` / Parquet bytes; 400 bad input; 404 table not
 * registered or not synced yet; 409 while another process writes the DuckDB target.
 * Schedules: 201 created; 200 list; 200 deleted; 404 unknown table or schedule; 409 schedule exists;
 * 422 incremental without a watermark column.
 */
import { Router } from 'express';
import { createTableSyncSchedule, deleteSchedule, listSchedules } from '../../client/tableSync.js';
import type { ApiDeps } from '../deps.js';
import { defaultDatabase } from '../deps.js';
import { ApiError, conflict, parseInput } from '../errors.js';
import { createScheduleRequest, sampleRequest, scheduleParams } from '../schemas.js';
import { sampleTarget, targetNameOf, TargetBusyError, TargetTableMissingError } from '../duckdbTarget.js';
import { requireRegistered, syncInputFor } from './sync.js';

/** Router with `/sample_data` and `/sync/schedules` (mount under /api/v1 after authentication). */
export function dataRouter(deps: ApiDeps): Router {
  const router = Router();

  router.post('/sample_data', async (req, res) => {
    const body = parseInput(sampleRequest, req.body, 'body');
    const t = await requireRegistered(
      deps,
      body.database_name ?? defaultDatabase(deps),
      body.schema_name,
      body.table_name,
    );
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

  router.post('/sync/schedules', async (req, res) => {
    const body = parseInput(createScheduleRequest, req.body, 'body');
    const t = await requireRegistered(
      deps,
      body.database_name ?? defaultDatabase(deps),
      body.schema_name,
      body.table_name,
    );
    const input = syncInputFor(t, body);
    const when = body.cron !== undefined ? { cron: body.cron } : { intervalSeconds: body.interval_seconds! };
    let scheduleId: string;
    try {
      ({ scheduleId } = await createTableSyncSchedule(deps.temporal, input, when, {
        taskQueue: deps.config.temporal.taskQueue,
      }));
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

  router.get('/sync/schedules', async (_req, res) => {
    const schedules = await listSchedules(deps.temporal);
    res.json({ count: schedules.length, schedules });
  });

  router.delete('/sync/schedules/:schedule_id', async (req, res) => {
    const { schedule_id } = parseInput(scheduleParams, req.params, 'params');
    await deleteSchedule(deps.temporal, schedule_id);
    deps.logger.info({ requestId: res.locals.requestId, scheduleId: schedule_id }, 'schedule deleted');
    res.json({ schedule_id, deleted: true });
  });

  return router;
}
