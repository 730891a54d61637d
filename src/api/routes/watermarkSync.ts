/**
 * Watermark sync (PostgreSQL → Snowflake) routes, mounted under `/api/v1/watermark-sync` and, for
 * clients of earlier releases, `/api/v1/pg-sync` (src/jobs/watermark-sync/job.ts), behind admin auth.
 * Its Prometheus gauges are served by the app's `GET /metrics` (src/metrics/http.ts).
 *
 * | route | body / query | answer |
 * |---|---|---|
 * | `GET  /status?name=` | | `{schedule, tables:[sync_watermarks rows], recent_errors}` |
 * | `POST /apply` | `{yaml}` (config text) or the config object | 201 created / 200 `{schedule_id, action: created\|updated\|unchanged, name, tables}`; 400 `invalid_config` names table and field |
 * | `POST /pause` `/resume` `/trigger` | `{name?}` | `{schedule_id, status}`; 404 when not applied |
 * | `POST /backfill` | `{name?, tables?, after?}` | 202 `{workflow_id, tables}`; 400 for a table not in the config |
 * | `POST /discover` | `{yaml}` or config, `create?` (default false: dry run); no config = the applied one | `{dry_run, tables:[...], ddl}`, read from the source database (`sourcePool`) |
 * | `GET  /errors?table=&limit=` | | `{errors:[sync_errors rows]}`, each with `sample_keys`: the primary keys of the failing batch's first rows (up to 100) |
 *
 * `name` defaults to `default`. Input is validated with zod (`parseInput`); errors are ApiErrors for
 * the app's handler.
 */
import type { Client } from '@temporalio/client';
import { Router, type Request, type RequestHandler } from 'express';
import type pg from 'pg';
import {
  applyWatermarkSyncConfig,
  backfillWatermarkSync,
  describeWatermarkSync,
  pauseWatermarkSync,
  resumeWatermarkSync,
  TableNotConfiguredError,
  triggerWatermarkSync,
} from '../../client/watermarkSync.js';
import type { SnowflakeSettings } from '../../connectors/snowflake.js';
import {
  parseWatermarkSyncConfig,
  validateWatermarkSyncConfig,
  WatermarkSyncConfigError,
} from '../../jobs/watermark-sync/config.js';
import { scheduleId, type WatermarkSyncConfig } from '../../jobs/watermark-sync/contract.js';
import { discover, formatDiscovery } from '../../jobs/watermark-sync/discovery.js';
import { listErrors, listWatermarks } from '../../jobs/watermark-sync/store.js';
import { ApiError, badRequest, notFound, parseInput } from '../errors.js';
import { route } from '../openapi/operations.js';
import * as ops from '../operations/watermarkSync.js';

/** Dependencies of {@link createWatermarkSyncRouter}. */
export interface WatermarkSyncRouterDeps {
  /** Control-plane pool (sync_watermarks, sync_errors). */
  pool: pg.Pool;
  /** Source pool for discovery (PG_SYNC_SOURCE_URL, default the control-plane pool). */
  sourcePool?: pg.Pool;
  temporal: Client;
  /** Task queue the Schedule starts runs on (the watermark sync queue). */
  taskQueue: string;
  /** Snowflake settings for discovery (target checks / creation). */
  snowflake?: SnowflakeSettings;
}

/** The config name of a control request: body `name`, else query `name`. */
function controlName(req: Request): string {
  const body = parseInput(ops.nameOnly, req.body, 'body');
  return req.body?.name !== undefined ? body.name : parseInput(ops.statusQuery, req.query, 'query').name;
}

/** Config from a request body: `{yaml: "..."}` or the config object itself. Throws 400 naming table and field. */
function configFromBody(body: unknown): WatermarkSyncConfig {
  try {
    if (body && typeof body === 'object' && typeof (body as { yaml?: unknown }).yaml === 'string')
      return parseWatermarkSyncConfig((body as { yaml: string }).yaml);
    return validateWatermarkSyncConfig(body);
  } catch (err) {
    if (err instanceof WatermarkSyncConfigError)
      throw new ApiError(400, 'invalid_config', err.message, err.issues[0]?.path, { issues: err.issues });
    throw err;
  }
}

const notApplied = (name: string): ApiError =>
  notFound(`watermark sync config ${name} is not applied (no schedule ${scheduleId(name)})`, 'name');

/** The router of the watermark sync (mounted at `/api/v1/watermark-sync` and its alias `/api/v1/pg-sync`). */
export function createWatermarkSyncRouter(deps: WatermarkSyncRouterDeps): Router {
  const r = Router();
  const { temporal: client, pool } = deps;

  route(r, ops.status, async (req, res) => {
    const { name } = parseInput(ops.statusQuery, req.query, 'query');
    const schedule = await describeWatermarkSync(client, name);
    const configured = schedule ? new Set(schedule.config.tables.map((t) => t.source)) : null;
    const tables = (await listWatermarks(pool)).filter((w) => !configured || configured.has(w.sourceTable));
    res.json({
      name,
      schedule: schedule && {
        schedule_id: schedule.scheduleId,
        paused: schedule.paused,
        note: schedule.note,
        interval_seconds: schedule.intervalSeconds,
        task_queue: schedule.taskQueue,
        next_action_times: schedule.nextActionTimes,
        recent_actions: schedule.recentActions,
        running_workflow_ids: schedule.runningWorkflowIds,
        tables: schedule.config.tables.map((t) => ({ source: t.source, target: t.target })),
      },
      tables: tables.map((w) => ({
        source_table: w.sourceTable,
        target_table: w.targetTable,
        last_watermark: w.position?.watermark ?? null,
        last_pk: w.position?.pk ?? null,
        last_run: w.lastRun,
        last_status: w.lastStatus,
        last_error: w.lastError,
        rows_processed: w.rowsProcessed,
        rows_total: w.rowsTotal,
        sync_success_count: w.syncSuccessCount,
        sync_failure_count: w.syncFailureCount,
        last_sync_duration_seconds: w.lastSyncDurationSeconds,
        last_workflow_id: w.lastWorkflowId,
      })),
      recent_errors: await listErrors(pool, null, 10),
    });
  });

  route(r, ops.apply, async (req, res) => {
    const config = configFromBody(req.body);
    const out = await applyWatermarkSyncConfig(client, config, { taskQueue: deps.taskQueue });
    res.status(out.action === 'created' ? 201 : 200).json({
      schedule_id: out.scheduleId,
      action: out.action,
      name: config.name,
      tables: config.tables.map((t) => t.source),
    });
  });

  const control =
    (fn: (c: Client, name: string) => Promise<boolean>, status: string): RequestHandler =>
    async (req, res) => {
      const name = controlName(req);
      if (!(await fn(client, name))) throw notApplied(name);
      res.json({ schedule_id: scheduleId(name), status });
    };
  route(r, ops.pause, control(pauseWatermarkSync, 'paused'));
  route(r, ops.resume, control(resumeWatermarkSync, 'active'));
  route(r, ops.trigger, control(triggerWatermarkSync, 'triggered'));

  route(r, ops.backfill, async (req, res) => {
    const b = parseInput(ops.backfillBody, req.body, 'body');
    try {
      const out = await backfillWatermarkSync(client, pool, b.name, { tables: b.tables, after: b.after ?? null });
      if (!out) throw notApplied(b.name);
      res.status(202).json({ workflow_id: out.workflowId, tables: out.tables });
    } catch (err) {
      if (err instanceof TableNotConfiguredError) throw badRequest(err.message, 'tables');
      throw err;
    }
  });

  route(r, ops.discover, async (req, res) => {
    const { create: _create, ...body } = (req.body ?? {}) as Record<string, unknown>;
    const flags = parseInput(ops.discoverFlags, { create: _create, name: body.name }, 'body');
    let config: WatermarkSyncConfig;
    if (Object.keys(body).every((k) => k === 'name')) {
      // No config in the body: discover the applied one.
      const s = await describeWatermarkSync(client, flags.name);
      if (!s) throw notFound(`watermark sync config ${flags.name} is not applied; send the config in the body`, 'name');
      config = s.config;
    } else {
      config = configFromBody(body);
    }
    const create = flags.create ?? false;
    const tables = await discover(deps.sourcePool ?? pool, config, { snowflake: deps.snowflake, create });
    res.json({ dry_run: !create, tables, ddl: formatDiscovery(tables) });
  });

  route(r, ops.errors, async (req, res) => {
    const q = parseInput(ops.errorsQuery, req.query, 'query');
    res.json({ errors: await listErrors(pool, q.table ?? null, q.limit) });
  });

  return r;
}
