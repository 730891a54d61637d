/**
 * The queue as the monitoring API sees it: per-status counts, failures, listings, an execution's upload
 * state, and the two repairs (retry an item, backfill executions that were never queued).
 *
 * Each function takes a {@link UserScope}: the user_id whose data the caller may see (a `user`-role API
 * token), or null for every user's (an admin). The filter is part of the SQL, so another user's item
 * reads as missing.
 */
import type { Queryable } from './queue.js';

/** The user_id whose items a caller sees, or null for all users. */
export type UserScope = string | null;

/** Queue item as the API shows it. */
export interface QueueItemRow {
  sync_id: string;
  execution_id: string;
  user_id: string;
  status: string;
  retry_count: number;
  max_retries: number;
  attempts: number;
  error_message: string | null;
  snowflake_table: string | null;
  rows_uploaded: number | null;
  load_method: string | null;
  source: string;
  created_at: Date;
  updated_at: Date;
  processed_at: Date | null;
}

const ITEM_COLUMNS = `id AS sync_id, execution_id, user_id, status, retry_count, max_retries, attempts, error_message,
  snowflake_table, rows_uploaded::int AS rows_uploaded, load_method, source, created_at, updated_at, processed_at`;

/** Statuses of the queue. */
export const QUEUE_STATUSES = ['pending', 'processing', 'completed', 'failed', 'skipped'] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

/**
 * Per-status counts of the items in `scope` (every status present, zero when empty); the same figures
 * as the `snowflake_sync_queue_summary` view, which covers every user.
 */
export async function queueStats(
  db: Queryable,
  scope: UserScope,
): Promise<
  Record<
    QueueStatus,
    { count: number; oldest_created_at: Date | null; avg_retry_count: number; avg_seconds_to_process: number | null }
  > & { total: number }
> {
  const { rows } = await db.query<{
    status: QueueStatus;
    count: string;
    oldest_created_at: Date | null;
    avg_retry_count: string | null;
    avg_seconds_to_process: string | null;
  }>(
    `SELECT status, count(*) AS count, min(created_at) AS oldest_created_at,
            round(avg(retry_count)::numeric, 2) AS avg_retry_count,
            round(avg(extract(epoch FROM processed_at - created_at))::numeric, 3) AS avg_seconds_to_process
       FROM snowflake_sync_queue WHERE ($1::uuid IS NULL OR user_id = $1) GROUP BY status`,
    [scope],
  );
  const out = { total: 0 } as Awaited<ReturnType<typeof queueStats>>;
  for (const s of QUEUE_STATUSES)
    out[s] = { count: 0, oldest_created_at: null, avg_retry_count: 0, avg_seconds_to_process: null };
  for (const r of rows) {
    out[r.status] = {
      count: Number(r.count),
      oldest_created_at: r.oldest_created_at,
      avg_retry_count: r.avg_retry_count === null ? 0 : Number(r.avg_retry_count),
      avg_seconds_to_process: r.avg_seconds_to_process === null ? null : Number(r.avg_seconds_to_process),
    };
    out.total += Number(r.count);
  }
  return out;
}

/** Failed items in `scope` (newest first) from `snowflake_sync_failures`. */
export async function listFailures(db: Queryable, limit: number, scope: UserScope): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query(
    'SELECT * FROM snowflake_sync_failures WHERE ($2::uuid IS NULL OR user_id = $2) ORDER BY updated_at DESC LIMIT $1',
    [limit, scope],
  );
  return rows;
}

/** Queue items in `scope`, optionally of one status, newest first. */
export async function listQueue(
  db: Queryable,
  opts: { status?: QueueStatus; limit: number; offset: number },
  scope: UserScope,
): Promise<QueueItemRow[]> {
  const { rows } = await db.query<QueueItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM snowflake_sync_queue WHERE ($1::text IS NULL OR status = $1) AND ($4::uuid IS NULL OR user_id = $4)
      ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`,
    [opts.status ?? null, opts.limit, opts.offset, scope],
  );
  return rows;
}

/** One item by id (null when missing or outside `scope`). */
export async function getQueueItem(
  db: Queryable,
  syncId: string,
  scope: UserScope = null,
): Promise<QueueItemRow | null> {
  const { rows } = await db.query<QueueItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM snowflake_sync_queue WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)`,
    [syncId, scope],
  );
  return rows[0] ?? null;
}

/** An execution's sync state, or null when the execution does not exist or is outside `scope`. */
export async function executionUploadStatus(
  db: Queryable,
  executionId: string,
  scope: UserScope,
): Promise<Record<string, unknown> | null> {
  const { rows } = await db.query<{
    execution_id: string;
    user_id: string;
    status: string;
    completed_at: Date | null;
    snowflake_table: string | null;
    snowflake_synced_at: Date | null;
    snowflake_rows: string | null;
  }>(
    `SELECT execution_id, user_id, status, completed_at, snowflake_table, snowflake_synced_at, snowflake_rows FROM workflow_executions
      WHERE execution_id = $1 AND ($2::uuid IS NULL OR user_id = $2)`,
    [executionId, scope],
  );
  const e = rows[0];
  if (!e) return null;
  const { rows: items } = await db.query<QueueItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM snowflake_sync_queue WHERE execution_id = $1`,
    [executionId],
  );
  return {
    execution_id: e.execution_id,
    user_id: e.user_id,
    execution_status: e.status,
    completed_at: e.completed_at,
    synced: e.snowflake_synced_at !== null,
    snowflake_table: e.snowflake_table,
    snowflake_synced_at: e.snowflake_synced_at,
    snowflake_rows: e.snowflake_rows === null ? null : Number(e.snowflake_rows),
    sync: items[0] ?? null,
  };
}

/** Outcome of {@link retryItem}. */
export type RetryOutcome =
  | { ok: true; item: QueueItemRow }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'bad_status'; status: string };

/**
 * Put a failed (or skipped) item in `scope` back to pending with a fresh retry budget. Items in any
 * other state are left alone (`bad_status`); items outside `scope` are `not_found`.
 */
export async function retryItem(db: Queryable, syncId: string, scope: UserScope): Promise<RetryOutcome> {
  const { rows } = await db.query<QueueItemRow>(
    `UPDATE snowflake_sync_queue SET status = 'pending', retry_count = 0, error_message = NULL, processed_at = NULL,
            available_at = now(), updated_at = now(), claimed_by = NULL, lease_expires_at = NULL
      WHERE id = $1 AND status IN ('failed', 'skipped') AND ($2::uuid IS NULL OR user_id = $2)
      RETURNING ${ITEM_COLUMNS}`,
    [syncId, scope],
  );
  if (rows[0]) return { ok: true, item: rows[0] };
  const cur = await getQueueItem(db, syncId, scope);
  return cur ? { ok: false, reason: 'bad_status', status: cur.status } : { ok: false, reason: 'not_found' };
}

/** Options of {@link backfill}. */
export interface BackfillOptions {
  userId?: string;
  /** Only executions completed at or after / before these instants. */
  since?: Date;
  until?: Date;
  /** At most this many executions (oldest first). */
  limit: number;
  /** Also re-queue items that ended failed or skipped (default false). */
  includeFailed?: boolean;
  dryRun?: boolean;
}

/**
 * Queue completed executions that were never uploaded: those without an item (completed before the
 * trigger existed, or while it was disabled) and, with `includeFailed`, those whose item failed or
 * was skipped. Returns the execution ids queued (or that would be, with `dryRun`).
 */
export async function backfill(db: Queryable, o: BackfillOptions): Promise<string[]> {
  const params = [o.userId ?? null, o.since ?? null, o.until ?? null, o.limit, o.includeFailed === true];
  const candidates = `
    SELECT e.execution_id, e.user_id
      FROM workflow_executions e LEFT JOIN snowflake_sync_queue q ON q.execution_id = e.execution_id
     WHERE e.status = 'completed' AND e.snowflake_synced_at IS NULL
       AND ($1::uuid IS NULL OR e.user_id = $1)
       AND ($2::timestamptz IS NULL OR COALESCE(e.completed_at, e.updated_at) >= $2)
       AND ($3::timestamptz IS NULL OR COALESCE(e.completed_at, e.updated_at) < $3)
       AND (q.id IS NULL OR ($5 AND q.status IN ('failed', 'skipped')))
     ORDER BY COALESCE(e.completed_at, e.updated_at), e.execution_id
     LIMIT $4`;
  if (o.dryRun) {
    const { rows } = await db.query<{ execution_id: string }>(candidates, params);
    return rows.map((r) => r.execution_id);
  }
  const { rows } = await db.query<{ execution_id: string }>(
    `INSERT INTO snowflake_sync_queue AS q (execution_id, user_id, source)
     SELECT execution_id, user_id, 'backfill' FROM (${candidates}) c
     ON CONFLICT (execution_id) DO UPDATE
       SET status = 'pending', retry_count = 0, error_message = NULL, processed_at = NULL, available_at = now(),
           updated_at = now(), claimed_by = NULL, lease_expires_at = NULL, source = 'backfill'
       WHERE q.status IN ('failed', 'skipped')
     RETURNING execution_id`,
    params,
  );
  return rows.map((r) => r.execution_id);
}

/**
 * Queue latency (seconds from queueing to the completed upload) of the items completed after `after`
 * and at least `settleSeconds` before now, by PostgreSQL's clock, plus the new `until` to pass as
 * `after` next time (text, keeping PostgreSQL's microseconds). `after` null: no latencies, only the
 * starting point. Reads the `(status, updated_at)` index: a completed item's updated_at is the time of
 * its completion.
 */
export async function uploadsCompletedAfter(
  db: Queryable,
  after: string | null,
  settleSeconds: number,
): Promise<{ latencies: number[]; until: string }> {
  const { rows } = await db.query<{ until: string; latencies: number[] }>(
    `WITH b AS (SELECT now() - make_interval(secs => $2) AS until)
     SELECT b.until::text AS until,
            array(SELECT extract(epoch FROM q.processed_at - q.created_at)::float8 FROM snowflake_sync_queue q
                   WHERE $1::timestamptz IS NOT NULL AND q.status = 'completed'
                     AND q.updated_at > $1::timestamptz AND q.updated_at <= b.until) AS latencies
       FROM b`,
    [after, settleSeconds],
  );
  return rows[0]!;
}
