/**
 * Watermark sync (PostgreSQL → Snowflake) routes, mounted by the app under `/api/v1/pg-sync`
 * (behind auth), plus the Prometheus handler for `GET /metrics`.
 *
 * | route | body / query | answer |
 * |---|---|---|
 * | `GET  /status?name=` | | `{schedule, tables:[sync_watermarks rows], recent_errors}` |
 * | `POST /apply` | `{yaml}` (config text) or the config object | `{schedule_id, action: created|updated|unchanged, tables}`; 400 names table and field |
 * | `POST /pause` `/resume` `/trigger` | `{name?}` | `{schedule_id, status}`; 404 when not applied |
 * | `POST /backfill` | `{name?, tables?, after?}` | 202 `{workflow_id, tables}` |
 * | `POST /discover` | `{yaml}` or config, `create?` (default false: dry run); empty body = the applied config | `{tables:[...], ddl}`, read from the source database (`sourcePool`) |
 * | `GET  /errors?table=&limit=` | | `{errors:[sync_errors rows]}`, each with `sample_keys`: the primary keys of the failing batch's first rows (up to 100) |
 *
 * `name` defaults to `default`. Errors are thrown as src/api/errors.ts ApiErrors for the app's handler.
 */
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { Router, type RequestHandler } from 'express';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import {
  applyPgSyncConfig,
  backfillPgSync,
  describePgSync,
  pausePgSync,
  resumePgSync,
  triggerPgSync,
} from '../client/watermarkSync.js';
import type { SnowflakeSettings } from '../connectors/snowflake.js';
import { DEFAULT_PG_SYNC_NAME, scheduleId, type WatermarkSyncConfig } from '../jobs/watermarkSync.js';
import { parsePgSyncConfig, PgSyncConfigError, validatePgSyncConfig } from '../pgsync/config.js';
import { discover, formatDiscovery } from '../pgsync/discovery.js';
import { createPgSyncMetrics } from '../pgsync/metrics.js';
import { listErrors, listWatermarks } from '../pgsync/store.js';
import { ApiError, badRequest, notFound } from './errors.js';

/** Dependencies of {@link createPgSyncRouter}. */
export interface PgSyncRouterDeps {
  /** Control-plane pool (sync_watermarks, sync_errors). */
  pool: pg.Pool;
  /** Source pool for discovery (PG_SYNC_SOURCE_URL, default the control-plane pool). */
  sourcePool?: pg.Pool;
  temporal: Client;
  /** Task queue the schedule starts runs on (config.temporal.taskQueue). */
  taskQueue: string;
  /** Snowflake settings for discovery (target checks / creation). */
  snowflake?: SnowflakeSettings;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

function nameOf(v: unknown): string {
  if (v === undefined || v === null || v === '') return DEFAULT_PG_SYNC_NAME;
  if (typeof v !== 'string' || !NAME_RE.test(v)) throw badRequest('name must be 1-64 of A-Z a-z 0-9 _ -', 'name');
  return v;
}

/** Config from a request body: `{yaml: "..."}` or the config object itself. Throws 400 naming table and field. */
function configFromBody(body: unknown): WatermarkSyncConfig {
  try {
    if (body && typeof body === 'object' && typeof (body as { yaml?: unknown }).yaml === 'string')
      return parsePgSyncConfig((body as { yaml: string }).yaml);
    return validatePgSyncConfig(body);
  } catch (err) {
    if (err instanceof PgSyncConfigError) {
      const e = new ApiError(400, 'invalid_config', err.message, err.issues[0]?.path, { issues: err.issues });
      throw e;
    }
    throw err;
  }
}

function scheduleMissing(err: unknown, name: string): never {
  if (err instanceof ScheduleNotFoundError)
    throw notFound(`pg-sync config ${name} is not applied (no schedule ${scheduleId(name)})`, 'name');
  throw err;
}

/** The router for `/api/v1/pg-sync`. */
export function createPgSyncRouter(deps: PgSyncRouterDeps): Router {
  const r = Router();
  const { temporal: client, pool } = deps;

  r.get('/status', async (req, res) => {
    const name = nameOf(req.query.name);
    const schedule = await describePgSync(client, name);
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

  r.post('/apply', async (req, res) => {
    const config = configFromBody(req.body);
    const out = await applyPgSyncConfig(client, config, { taskQueue: deps.taskQueue });
    res.status(out.action === 'created' ? 201 : 200).json({
      schedule_id: out.scheduleId,
      action: out.action,
      name: config.name,
      tables: config.tables.map((t) => t.source),
    });
  });

  const control =
    (fn: (c: Client, name: string) => Promise<void>, status: string): RequestHandler =>
    async (req, res) => {
      const name = nameOf(req.body?.name ?? req.query.name);
      await fn(client, name).catch((e) => scheduleMissing(e, name));
      res.json({ schedule_id: scheduleId(name), status });
    };
  r.post('/pause', control(pausePgSync, 'paused'));
  r.post('/resume', control(resumePgSync, 'active'));
  r.post('/trigger', control(triggerPgSync, 'triggered'));

  r.post('/backfill', async (req, res) => {
    const b = (req.body ?? {}) as { name?: unknown; tables?: unknown; after?: unknown };
    const name = nameOf(b.name);
    if (b.tables !== undefined && (!Array.isArray(b.tables) || !b.tables.every((t) => typeof t === 'string')))
      throw badRequest('tables must be a list of source table names', 'tables');
    if (b.after !== undefined && b.after !== null && typeof b.after !== 'string')
      throw badRequest('after must be a watermark value as text', 'after');
    try {
      const out = await backfillPgSync(client, pool, name, {
        tables: b.tables as string[] | undefined,
        after: (b.after as string | undefined) ?? null,
      });
      res.status(202).json({ workflow_id: out.workflowId, tables: out.tables });
    } catch (err) {
      if ((err as Error).name === 'InvalidRequest') throw badRequest((err as Error).message, 'tables');
      scheduleMissing(err, name);
    }
  });

  r.post('/discover', async (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    const create = body?.create === true;
    let config: WatermarkSyncConfig;
    if (!body || Object.keys(body).filter((k) => k !== 'create' && k !== 'name').length === 0) {
      const name = nameOf(body?.name);
      const s = await describePgSync(client, name);
      if (!s) throw notFound(`pg-sync config ${name} is not applied; send the config in the body`, 'name');
      config = s.config;
    } else {
      const { create: _c, ...rest } = body;
      config = configFromBody(rest);
    }
    const tables = await discover(deps.sourcePool ?? pool, config, { snowflake: deps.snowflake, create });
    res.json({ dry_run: !create, tables, ddl: formatDiscovery(tables) });
  });

  r.get('/errors', async (req, res) => {
    const table = typeof req.query.table === 'string' ? req.query.table : null;
    const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 50) || 50));
    res.json({ errors: await listErrors(pool, table, limit) });
  });

  return r;
}

/**
 * `GET /metrics` handler (Prometheus text format) over a registry of the watermark sync's metrics
 * ({@link createPgSyncMetrics}); pass your own registry to add them to it. Mount without auth if
 * Prometheus scrapes it directly.
 */
export function createMetricsHandler(pool: pg.Pool, registry?: Registry): RequestHandler {
  const reg = createPgSyncMetrics(pool, registry);
  return async (_req, res) => {
    res.set('Content-Type', reg.contentType);
    res.send(await reg.metrics());
  };
}
