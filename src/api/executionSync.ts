/**
 * Seed 004's monitoring and repair API for the execution upload, as an Express router. The lead mounts
 * it behind floe's auth: `api.use('/snowflake-sync', createExecutionSyncRouter(deps))` under the app's
 * `requireAuth`, or at `/api/snowflake-sync` after `requireAuth` (src/api/auth.ts). Errors are thrown as
 * {@link ApiError} and rendered by the app's error handler (src/api/errors.ts).
 *
 * | route | success |
 * |---|---|
 * | `GET /stats` | 200 `{pending:{count,…}, processing, completed, failed, skipped, total}` |
 * | `GET /failed?limit=` (1..500, default 50) | 200 `{count, failed:[{sync_id, execution_id, user_id, retry_count, max_retries, error_message, …}]}` |
 * | `POST /retry/{sync_id}` | 200 `{sync_id, status:"pending", retried:true, drain_triggered}`; 404 unknown; 409 not failed/skipped |
 * | `GET /queue?status=&limit=&offset=` | 200 `{count, items}` (newest first) |
 * | `GET /execution/{execution_id}/sync-status` | 200 `{execution_id, synced, snowflake_table, snowflake_synced_at, sync}`; 404 unknown |
 * | `POST /backfill` `{user_id?, since?, until?, limit?, include_failed?, dry_run?}` | 200 `{queued, execution_ids, dry_run, drain_triggered}` |
 *
 * After a retry or a backfill the drain Schedule is triggered (best effort) so the work starts now
 * rather than at the next 30 s tick.
 *
 * Scoping: an admin token (`res.locals.auth.role === 'admin'`, src/api/auth.ts) sees every user; a
 * `user` token sees and acts only on its own `user_id` — the filter is in the SQL (src/uploads/store.ts),
 * so another user's item or execution is a 404, and a backfill naming another `user_id` is a 404 too.
 */
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { triggerExecutionUploadDrain } from '../client/executionUpload.js';
import { EXECUTION_UPLOAD_SCHEDULE_ID } from '../jobs/executionUpload.js';
import * as store from '../uploads/store.js';
import { userScope } from './auth.js';
import { ApiError, notFound, parseInput } from './errors.js';

/** Dependencies of {@link createExecutionSyncRouter}. */
export interface ExecutionSyncRouterDeps {
  pool: pg.Pool;
  /** To trigger the drain Schedule after retry/backfill; omitted: the next scheduled drain picks the items up. */
  temporal?: Client;
  /** Default {@link EXECUTION_UPLOAD_SCHEDULE_ID}. */
  scheduleId?: string;
  logger?: Logger;
}

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
const intParam = (dflt: number, min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(dflt);

const failedQuery = z.object({ limit: intParam(50, 1, 500) }).strict();
const queueQuery = z
  .object({
    status: z.enum(store.QUEUE_STATUSES, { error: `must be one of ${store.QUEUE_STATUSES.join(', ')}` }).optional(),
    limit: intParam(100, 1, 1000),
    offset: intParam(0, 0, 1_000_000),
  })
  .strict();
const backfillBody = z
  .object({
    user_id: uuid.optional(),
    since: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
    until: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
    limit: intParam(10_000, 1, 100_000),
    include_failed: z.boolean().default(false),
    dry_run: z.boolean().default(false),
  })
  .strict();

/** Build the `/api/snowflake-sync` router (see the module comment for routes and shapes). */
export function createExecutionSyncRouter(deps: ExecutionSyncRouterDeps): Router {
  const r = Router();
  const scheduleId = deps.scheduleId ?? EXECUTION_UPLOAD_SCHEDULE_ID;

  const trigger = async (): Promise<boolean> => {
    if (!deps.temporal) return false;
    try {
      return await triggerExecutionUploadDrain(deps.temporal, scheduleId);
    } catch (err) {
      deps.logger?.warn({ err: (err as Error)?.message, scheduleId }, 'could not trigger the execution upload drain');
      return false;
    }
  };

  r.get('/stats', async (_req, res) => {
    res.json(await store.queueStats(deps.pool, userScope(res)));
  });

  r.get('/failed', async (req, res) => {
    const q = parseInput(failedQuery, req.query, 'query');
    const failed = await store.listFailures(deps.pool, q.limit, userScope(res));
    res.json({ count: failed.length, failed });
  });

  r.post('/retry/:sync_id', async (req, res) => {
    const { sync_id } = parseInput(z.object({ sync_id: uuid }), req.params, 'params');
    const out = await store.retryItem(deps.pool, sync_id, userScope(res));
    if (!out.ok && out.reason === 'not_found') throw notFound(`sync item '${sync_id}' not found`, 'sync_id');
    if (!out.ok) {
      throw new ApiError(
        409,
        'not_retryable',
        `sync item '${sync_id}' is ${out.status}; only failed or skipped items can be retried`,
        'sync_id',
        { status: out.status },
      );
    }
    const drainTriggered = await trigger();
    res.json({
      sync_id,
      execution_id: out.item.execution_id,
      status: out.item.status,
      retried: true,
      drain_triggered: drainTriggered,
    });
  });

  r.get('/queue', async (req, res) => {
    const q = parseInput(queueQuery, req.query, 'query');
    const items = await store.listQueue(deps.pool, q, userScope(res));
    res.json({ count: items.length, items });
  });

  r.get('/execution/:execution_id/sync-status', async (req, res) => {
    const id = req.params.execution_id;
    const status = await store.executionSyncStatus(deps.pool, id, userScope(res));
    if (!status) throw notFound(`execution '${id}' not found`, 'execution_id');
    res.json(status);
  });

  r.post('/backfill', async (req, res) => {
    const b = parseInput(backfillBody, req.body ?? {}, 'body');
    const scope = userScope(res);
    if (scope !== null && b.user_id !== undefined && b.user_id !== scope)
      throw notFound(`user '${b.user_id}' not found`, 'user_id');
    const ids = await store.backfill(deps.pool, {
      userId: scope ?? b.user_id,
      since: b.since ? new Date(b.since) : undefined,
      until: b.until ? new Date(b.until) : undefined,
      limit: b.limit,
      includeFailed: b.include_failed,
      dryRun: b.dry_run,
    });
    const drainTriggered = !b.dry_run && ids.length > 0 ? await trigger() : false;
    res.json({
      queued: b.dry_run ? 0 : ids.length,
      execution_ids: ids.slice(0, 1000),
      dry_run: b.dry_run,
      drain_triggered: drainTriggered,
    });
  });

  return r;
}
