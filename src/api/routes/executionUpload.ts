/**
 * The execution upload's HTTP API, one router: monitoring and repair of the upload queue, and each
 * user's Snowflake configuration. Mounted behind authentication at `/api/v1/execution-upload` and, for
 * clients of the first API, at `/api/snowflake-sync` (src/jobs/execution-upload/job.ts). Errors are
 * thrown as {@link ApiError} and rendered by the app's error handler (src/api/errors.ts).
 *
 * | route | success | errors |
 * |---|---|---|
 * | `GET /stats` | 200 `{pending:{count, oldest_created_at, avg_retry_count, avg_seconds_to_process}, processing, completed, failed, skipped, total}` | |
 * | `GET /failed?limit=` (1..500, default 50) | 200 `{count, failed:[{sync_id, execution_id, user_id, retry_count, max_retries, error_message, …}]}` | 400 |
 * | `POST /retry/{sync_id}` | 200 `{sync_id, execution_id, status:"pending", retried:true, drain_triggered}` | 400, 404 unknown, 409 not failed/skipped |
 * | `GET /queue?status=&limit=&offset=` | 200 `{count, items}` (newest first) | 400 |
 * | `GET /execution/{execution_id}/sync-status` | 200 `{execution_id, synced, snowflake_table, snowflake_synced_at, snowflake_rows, sync}` | 404 unknown |
 * | `POST /backfill` `{user_id?, since?, until?, limit?, include_failed?, dry_run?}` | 200 `{queued, execution_ids, dry_run, drain_triggered}` | 400, 404 another user |
 * | `PUT /config` `{user_id?, account, user, authenticator, password \| private_key [+ private_key_passphrase] \| token, database, schema, warehouse?, role?, access_url?}` | 200 the configuration (no secret) | 400 naming the field, 403 |
 * | `GET /config?user_id=` | 200 the configuration (no secret) | 404 none |
 * | `POST /config/test` `{user_id?}` | 200 `{user_id, current_user, current_role, current_warehouse}` | 404, 422 `snowflake_sign_in_failed` with `snowflake_code` |
 * | `DELETE /config?user_id=` | 200 `{user_id, deleted: true}` | 404 none |
 *
 * After a retry or a backfill the drain Schedule is triggered (best effort) so the work starts now
 * rather than at the next tick. Without FLOE_ENCRYPTION_KEY, `PUT /config` and `/config/test` answer 503.
 *
 * Scoping: an admin token sees every user; a `user` token sees and acts only on its own `user_id`
 * ({@link userScope}). The monitoring filters are in the SQL (src/jobs/execution-upload/monitor.ts), so
 * another user's item or execution is a 404, and a backfill naming another `user_id` is a 404 too; a
 * configuration is addressed through {@link configOwner}.
 */
import type { Client } from '@temporalio/client';
import { Router, type Response } from 'express';
import type pg from 'pg';
import type { Logger } from 'pino';
import { triggerExecutionUploadDrain } from '../../client/executionUpload.js';
import { secretOf } from '../../credentials/kinds.js';
import * as configs from '../../jobs/execution-upload/configs.js';
import { EXECUTION_UPLOAD_SCHEDULE_ID } from '../../jobs/execution-upload/contract.js';
import * as monitor from '../../jobs/execution-upload/monitor.js';
import type { SecretKeys } from '../../secrets/crypto.js';
import { userScope } from '../auth.js';
import { ApiError, notFound, parseInput } from '../errors.js';
import { route } from '../openapi/operations.js';
import * as ops from '../operations/executionUpload.js';
import { answerSignInTest, readSecret, requireKeys } from './credentials.js';

/** Dependencies of {@link executionUploadRouter}. */
export interface ExecutionUploadRouterDeps {
  pool: pg.Pool;
  /** FLOE_ENCRYPTION_KEY (and _PREVIOUS) for the configurations' secrets; undefined when not configured. */
  secretKeys: SecretKeys | undefined;
  /** To trigger the drain Schedule after retry/backfill; omitted: the next scheduled drain picks the items up. */
  temporal?: Client;
  /** Default {@link EXECUTION_UPLOAD_SCHEDULE_ID}. */
  scheduleId?: string;
  logger?: Logger;
}

/**
 * The user whose configuration a request addresses: a `user`-role token its own (naming another is
 * 403), an admin the `user_id` it names (400 when it names nobody). Scoping is {@link userScope}'s.
 */
export function configOwner(res: Response, named: string | undefined): string {
  const own = userScope(res);
  if (own !== null) {
    if (named !== undefined && named.toLowerCase() !== own.toLowerCase()) {
      throw new ApiError(
        403,
        'forbidden',
        "field 'user_id': a user token may only address its own configuration",
        'user_id',
      );
    }
    return own;
  }
  if (named === undefined)
    throw new ApiError(400, 'invalid_request', "field 'user_id' is required for an admin token", 'user_id');
  return named;
}

/** Build the execution upload router (see the module comment for routes and shapes). */
export function executionUploadRouter(deps: ExecutionUploadRouterDeps): Router {
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

  route(r, ops.stats, async (_req, res) => {
    res.json(await monitor.queueStats(deps.pool, userScope(res)));
  });

  route(r, ops.failed, async (req, res) => {
    const q = parseInput(ops.failedQuery, req.query, 'query');
    const failed = await monitor.listFailures(deps.pool, q.limit, userScope(res));
    res.json({ count: failed.length, failed });
  });

  route(r, ops.retry, async (req, res) => {
    const { sync_id } = parseInput(ops.retryParams, req.params, 'params');
    const out = await monitor.retryItem(deps.pool, sync_id, userScope(res));
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

  route(r, ops.queue, async (req, res) => {
    const q = parseInput(ops.queueQuery, req.query, 'query');
    const items = await monitor.listQueue(deps.pool, q, userScope(res));
    res.json({ count: items.length, items });
  });

  route(r, ops.syncStatus, async (req, res) => {
    const { execution_id: id } = parseInput(ops.syncStatusParams, req.params, 'params');
    const status = await monitor.executionUploadStatus(deps.pool, id, userScope(res));
    if (!status) throw notFound(`execution '${id}' not found`, 'execution_id');
    res.json(status);
  });

  route(r, ops.backfill, async (req, res) => {
    const b = parseInput(ops.backfillBody, req.body ?? {}, 'body');
    const scope = userScope(res);
    if (scope !== null && b.user_id !== undefined && b.user_id !== scope)
      throw notFound(`user '${b.user_id}' not found`, 'user_id');
    const ids = await monitor.backfill(deps.pool, {
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

  route(r, ops.saveConfig, async (req, res) => {
    const keys = requireKeys(deps.secretKeys);
    const b = parseInput(ops.configBody, req.body, 'body');
    const userId = configOwner(res, b.user_id);
    const saved = await configs.saveSnowflakeConfiguration(deps.pool, keys, {
      userId,
      account: b.account,
      username: b.user,
      authenticator: b.authenticator,
      secret: secretOf(b),
      database: b.database,
      schema: b.schema,
      warehouse: b.warehouse ?? null,
      role: b.role ?? null,
      accessUrl: b.access_url ?? null,
    });
    res.json(saved);
  });

  route(r, ops.getConfig, async (req, res) => {
    const userId = configOwner(res, parseInput(ops.ownerOnly, req.query, 'query').user_id);
    const cfg = await configs.getSnowflakeConfiguration(deps.pool, userId);
    if (!cfg) throw notFound(`user ${userId} has no Snowflake configuration`, 'user_id');
    res.json(cfg);
  });

  route(r, ops.testConfig, async (req, res) => {
    const keys = requireKeys(deps.secretKeys);
    const userId = configOwner(res, parseInput(ops.ownerOnly, req.body, 'body').user_id);
    const label = configs.configurationLabel(userId);
    const cfg = await readSecret(label, () => configs.activeSettings(deps.pool, userId, keys));
    if (!cfg) throw notFound(`user ${userId} has no Snowflake configuration`, 'user_id');
    await answerSignInTest(res, cfg.settings, label, { user_id: userId });
  });

  route(r, ops.deleteConfig, async (req, res) => {
    const userId = configOwner(res, parseInput(ops.ownerOnly, req.query, 'query').user_id);
    if (!(await configs.deleteSnowflakeConfiguration(deps.pool, userId)))
      throw notFound(`user ${userId} has no Snowflake configuration`, 'user_id');
    res.json({ user_id: userId, deleted: true });
  });

  return r;
}
