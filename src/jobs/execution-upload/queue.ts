/**
 * The queue of the execution upload (`snowflake_sync_queue`, migrations/0003_execution_upload.sql): claims
 * and the state transitions of one item. Every function takes a pool (or client) and parameters; every
 * value goes in as a bind parameter. The API's reads and repairs of the queue are in ./monitor.ts.
 *
 * Queue states: pending → processing (claimed) → completed | skipped | failed; the retry route and a
 * backfill put failed/skipped items back to pending. A `processing` item whose lease ran out (its
 * drain was terminated) is claimed again; a child already running for it keeps it (stable workflow id).
 * Every transition out of `processing` is guarded by `status = 'processing'`, so a late or repeated
 * call changes nothing.
 */
import type pg from 'pg';

/** A pool or a client: what the store's functions query through. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** A claimed item: ids and its retry budget (what its upload workflow needs, so it reads nothing first). */
export interface ClaimedItem {
  syncId: string;
  executionId: string;
  /** Retries after the first attempt (`max_retries`). */
  maxRetries: number;
  /**
   * Attempts begun on the item before this claim (`attempts`): an attempt begun since makes the column
   * larger ({@link attemptedSince}). Absent in claims recorded before floe returned it.
   */
  attempts?: number;
}

/**
 * Claim up to `limit` items: pending ones that are available, and processing ones whose lease
 * expired, oldest first, `FOR UPDATE SKIP LOCKED` so concurrent claimers never take the same item.
 * Claimed items become `processing`, held by `claimer` for `leaseSeconds`.
 */
export async function claimItems(
  db: Queryable,
  opts: { limit: number; claimer: string; leaseSeconds: number },
): Promise<ClaimedItem[]> {
  const { rows } = await db.query<{ id: string; execution_id: string; max_retries: number; attempts: number }>(
    `WITH c AS (
       SELECT id FROM snowflake_sync_queue
        WHERE (status = 'pending' AND available_at <= now())
           OR (status = 'processing' AND lease_expires_at < now())
        ORDER BY created_at, id
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
     UPDATE snowflake_sync_queue q
        SET status = 'processing', claimed_by = $2, lease_expires_at = now() + make_interval(secs => $3),
            updated_at = now()
       FROM c WHERE q.id = c.id
     RETURNING q.id, q.execution_id, q.max_retries, q.attempts, q.created_at`,
    [opts.limit, opts.claimer, opts.leaseSeconds],
  );
  return rows.map((r) => ({
    syncId: r.id,
    executionId: r.execution_id,
    maxRetries: r.max_retries,
    attempts: r.attempts,
  }));
}

/**
 * Of `items` (each with its `attempts` as claimed), the ids of those still processing on which an
 * attempt was begun ({@link beginAttempt}) since: after an upload activity was lost (its worker died),
 * these had an attempt under way when it ended; the others were finished or never started.
 */
export async function attemptedSince(db: Queryable, items: { syncId: string; attempts: number }[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT q.id FROM snowflake_sync_queue q JOIN unnest($1::uuid[], $2::int[]) AS c(id, attempts) ON q.id = c.id
      WHERE q.status = 'processing' AND q.attempts > c.attempts`,
    [items.map((i) => i.syncId), items.map((i) => i.attempts)],
  );
  return rows.map((r) => r.id);
}

/** What an upload attempt needs to know about its item (no secrets). */
export interface ItemState {
  syncId: string;
  executionId: string;
  userId: string;
  status: string;
  retryCount: number;
  maxRetries: number;
}

/** The columns of {@link ItemState}, as {@link itemState} reads them. */
const ITEM_STATE_COLUMNS = 'id, execution_id, user_id, status, retry_count, max_retries';

/** A row of {@link ITEM_STATE_COLUMNS}. */
interface ItemStateRow {
  id: string;
  execution_id: string;
  user_id: string;
  status: string;
  retry_count: number;
  max_retries: number;
}

function itemState(r: ItemStateRow): ItemState {
  return {
    syncId: r.id,
    executionId: r.execution_id,
    userId: r.user_id,
    status: r.status,
    retryCount: r.retry_count,
    maxRetries: r.max_retries,
  };
}

/** Read an item (null when it does not exist). */
export async function getItem(db: Queryable, syncId: string): Promise<ItemState | null> {
  const { rows } = await db.query<ItemStateRow>(
    `SELECT ${ITEM_STATE_COLUMNS} FROM snowflake_sync_queue WHERE id = $1`,
    [syncId],
  );
  return rows[0] ? itemState(rows[0]) : null;
}

/**
 * Start of an attempt, in one statement: a processing item's attempt is counted and its lease extended.
 * Returns the item as it was before (null when it does not exist) and whether the attempt was begun
 * (false, changing nothing, when the item is no longer processing).
 */
export async function beginAttempt(
  db: Queryable,
  syncId: string,
  leaseSeconds: number,
): Promise<(ItemState & { begun: boolean }) | null> {
  const { rows } = await db.query<ItemStateRow & { begun: boolean }>(
    `WITH cur AS (SELECT ${ITEM_STATE_COLUMNS} FROM snowflake_sync_queue WHERE id = $1),
          b AS (UPDATE snowflake_sync_queue
                   SET attempts = attempts + 1, lease_expires_at = now() + make_interval(secs => $2), updated_at = now()
                 WHERE id = $1 AND status = 'processing'
                RETURNING id)
     SELECT cur.*, EXISTS (SELECT 1 FROM b) AS begun FROM cur`,
    [syncId, leaseSeconds],
  );
  return rows[0] ? { ...itemState(rows[0]), begun: rows[0].begun } : null;
}

/** A failed attempt that will be retried: `retry_count` = failures so far (capped at max_retries), last error kept. */
export async function recordAttemptFailure(
  db: Queryable,
  syncId: string,
  failures: number,
  message: string,
): Promise<void> {
  await db.query(
    `UPDATE snowflake_sync_queue SET retry_count = LEAST($2, max_retries), error_message = $3, updated_at = now()
      WHERE id = $1 AND status = 'processing'`,
    [syncId, failures, message.slice(0, 4000)],
  );
}

/** Final failure: status failed with its error message; `retries` = attempts made - 1 (capped at max_retries). */
export async function failItem(db: Queryable, syncId: string, message: string, retries: number): Promise<void> {
  await db.query(
    `UPDATE snowflake_sync_queue SET status = 'failed', retry_count = LEAST($3, max_retries), error_message = $2,
            processed_at = now(), updated_at = now(), lease_expires_at = NULL
      WHERE id = $1 AND status = 'processing'`,
    [syncId, message.slice(0, 4000), retries],
  );
}

/** Skip an item (no configuration, no rows) with the reason in error_message. */
export async function skipItem(db: Queryable, syncId: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE snowflake_sync_queue SET status = 'skipped', error_message = $2, processed_at = now(), updated_at = now(), lease_expires_at = NULL
      WHERE id = $1 AND status = 'processing'`,
    [syncId, reason],
  );
}

/**
 * Record a successful upload: the item (completed, with table, rows and load method) and the execution
 * row (table, time, rows), in one statement (so one transaction). Returns false, changing nothing, when
 * the item was no longer processing.
 */
export async function completeItem(
  db: Queryable,
  r: { syncId: string; executionId: string; table: string; rows: number; method: string },
): Promise<boolean> {
  // The execution's UPDATE reads the item's (a data-modifying WITH runs once, whether or not it is read).
  const { rows } = await db.query<{ done: boolean }>(
    `WITH q AS (UPDATE snowflake_sync_queue
                   SET status = 'completed', error_message = NULL, processed_at = now(), updated_at = now(),
                       lease_expires_at = NULL, snowflake_table = $2, rows_uploaded = $3, load_method = $4
                 WHERE id = $1 AND status = 'processing'
                RETURNING id),
          e AS (UPDATE workflow_executions
                   SET snowflake_table = $2, snowflake_synced_at = now(), snowflake_rows = $3, updated_at = now()
                 WHERE execution_id = $5 AND EXISTS (SELECT 1 FROM q))
     SELECT EXISTS (SELECT 1 FROM q) AS done`,
    [r.syncId, r.table, r.rows, r.method, r.executionId],
  );
  return rows[0]?.done === true;
}
