/**
 * PostgreSQL side of the execution upload (migrations/0003_execution_upload.sql): the queue's state
 * transitions, per-user configurations, and the reads behind the API. Every function takes a pool (or
 * client) and parameters; every value goes in as a bind parameter.
 *
 * Queue states: pending → processing (claimed) → completed | skipped | failed; the retry route and a
 * backfill put failed/skipped items back to pending. A `processing` item whose lease ran out (its
 * drain was terminated) is claimed again; a child already running for it keeps it (stable workflow id).
 */
import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import type { SnowflakeAuthenticator, SnowflakeSettings } from '../connectors/snowflake.js';
import { sealSecret, secretHints, unsealSecret, type SecretHints, type SnowflakeSecret } from '../credentials/kinds.js';
import type { SecretBinding, SecretKeys } from '../secrets/crypto.js';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** A claimed item: ids only. */
export interface ClaimedItem {
  syncId: string;
  executionId: string;
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
  const { rows } = await db.query<{ id: string; execution_id: string }>(
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
     RETURNING q.id, q.execution_id, q.created_at`,
    [opts.limit, opts.claimer, opts.leaseSeconds],
  );
  return rows.map((r) => ({ syncId: r.id, executionId: r.execution_id }));
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

/** Read an item (null when it does not exist). */
export async function getItem(db: Queryable, syncId: string): Promise<ItemState | null> {
  const { rows } = await db.query<{
    id: string;
    execution_id: string;
    user_id: string;
    status: string;
    retry_count: number;
    max_retries: number;
  }>('SELECT id, execution_id, user_id, status, retry_count, max_retries FROM snowflake_sync_queue WHERE id = $1', [
    syncId,
  ]);
  const r = rows[0];
  return r
    ? {
        syncId: r.id,
        executionId: r.execution_id,
        userId: r.user_id,
        status: r.status,
        retryCount: r.retry_count,
        maxRetries: r.max_retries,
      }
    : null;
}

/** Start of an attempt: count it and extend the lease. Returns false when the item is no longer processing. */
export async function beginAttempt(db: Queryable, syncId: string, leaseSeconds: number): Promise<boolean> {
  const r = await db.query(
    `UPDATE snowflake_sync_queue SET attempts = attempts + 1, lease_expires_at = now() + make_interval(secs => $2), updated_at = now()
      WHERE id = $1 AND status = 'processing'`,
    [syncId, leaseSeconds],
  );
  return (r.rowCount ?? 0) > 0;
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
 * Record a successful upload: the execution row (table, time, rows) and the item (completed), in one
 * transaction (`client` must be inside BEGIN). Returns false when the item was no longer processing.
 */
export async function completeItem(
  client: pg.PoolClient,
  r: { syncId: string; executionId: string; table: string; rows: number; method: string },
): Promise<boolean> {
  const q = await client.query(
    `UPDATE snowflake_sync_queue SET status = 'completed', error_message = NULL, processed_at = now(), updated_at = now(),
            lease_expires_at = NULL, snowflake_table = $2, rows_uploaded = $3, load_method = $4
      WHERE id = $1 AND status = 'processing'`,
    [r.syncId, r.table, r.rows, r.method],
  );
  if ((q.rowCount ?? 0) === 0) return false;
  await client.query(
    `UPDATE workflow_executions SET snowflake_table = $2, snowflake_synced_at = now(), snowflake_rows = $3, updated_at = now()
      WHERE execution_id = $1`,
    [r.executionId, r.table, r.rows],
  );
  return true;
}

/** The execution's facts an upload needs (results stay in PostgreSQL; see {@link readResultCells}). */
export interface ExecutionInfo {
  executionId: string;
  userId: string;
  status: string;
  completedAt: Date;
  /** jsonb_typeof(results): 'array' | 'object' | null. */
  resultsKind: string | null;
  resultsRef: string | null;
}

/** Read an execution (null when missing). */
export async function getExecution(db: Queryable, executionId: string): Promise<ExecutionInfo | null> {
  const { rows } = await db.query<{
    execution_id: string;
    user_id: string;
    status: string;
    completed_at: Date | null;
    updated_at: Date;
    kind: string | null;
    results_ref: string | null;
  }>(
    `SELECT execution_id, user_id, status, completed_at, updated_at, jsonb_typeof(results) AS kind, results_ref
       FROM workflow_executions WHERE execution_id = $1`,
    [executionId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    executionId: r.execution_id,
    userId: r.user_id,
    status: r.status,
    completedAt: r.completed_at ?? r.updated_at,
    resultsKind: r.kind,
    resultsRef: r.results_ref,
  };
}

/** One result cell: row number (1-based), column key, jsonb kind, JSON text. */
export type ResultCell = [row: number, key: string, kind: string, json: string];

/**
 * The results of an execution as cells, in row order. Accepts a JSON array of objects (columns in
 * order of first appearance; jsonb orders an object's keys by length, then bytes) or
 * `{"columns": [names or {name}], "rows": [[...], ...]}` (column order kept).
 * @returns the column keys in order and the cells (rows × columns, absent keys omitted).
 */
export async function readResultCells(
  db: Queryable,
  executionId: string,
  kind: 'array' | 'object',
): Promise<{ keys: string[]; cells: ResultCell[] }> {
  if (kind === 'array') {
    const { rows } = await db.query<string[]>({
      text: `SELECT e.ord::text, kv.key, jsonb_typeof(kv.value), kv.value::text
               FROM workflow_executions w
               CROSS JOIN LATERAL jsonb_array_elements(w.results) WITH ORDINALITY AS e(v, ord)
               CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(e.v) = 'object' THEN e.v ELSE jsonb_build_object('value', e.v) END) AS kv
              WHERE w.execution_id = $1
              ORDER BY e.ord`,
      values: [executionId],
      rowMode: 'array',
    });
    const keys: string[] = [];
    const seen = new Set<string>();
    const cells: ResultCell[] = rows.map((r) => {
      if (!seen.has(r[1])) {
        seen.add(r[1]);
        keys.push(r[1]);
      }
      return [Number(r[0]), r[1], r[2], r[3]];
    });
    return { keys, cells };
  }
  const { rows: colRows } = await db.query<{ name: string }>(
    `SELECT COALESCE(c.v->>'name', c.v #>> '{}') AS name
       FROM workflow_executions w CROSS JOIN LATERAL jsonb_array_elements(COALESCE(w.results->'columns', '[]')) WITH ORDINALITY AS c(v, ord)
      WHERE w.execution_id = $1 ORDER BY c.ord`,
    [executionId],
  );
  const keys = colRows.map((r) => r.name);
  const { rows } = await db.query<string[]>({
    text: `SELECT e.ord::text, (c.ord - 1)::text, jsonb_typeof(c.v), c.v::text
             FROM workflow_executions w
             CROSS JOIN LATERAL jsonb_array_elements(COALESCE(w.results->'rows', '[]')) WITH ORDINALITY AS e(v, ord)
             CROSS JOIN LATERAL jsonb_array_elements(e.v) WITH ORDINALITY AS c(v, ord)
            WHERE w.execution_id = $1
            ORDER BY e.ord, c.ord`,
    values: [executionId],
    rowMode: 'array',
  });
  const cells: ResultCell[] = [];
  for (const r of rows) {
    const i = Number(r[1]);
    if (i >= keys.length) keys.push(`COLUMN_${i + 1}`);
    cells.push([Number(r[0]), keys[i], r[2], r[3]]);
  }
  return { keys, cells };
}

/** The table of per-user configurations (also the `table` of their secrets' {@link SecretBinding}). */
export const CONFIGURATIONS_TABLE = 'snowflake_configurations';

const configBinding = (userId: string, authenticator: string): SecretBinding => ({
  table: CONFIGURATIONS_TABLE,
  name: userId,
  kind: authenticator,
});

/** A user's active configuration without its secret, as the API shows it. */
export interface SnowflakeConfigurationView extends SecretHints {
  id: string;
  user_id: string;
  account: string;
  user: string;
  authenticator: SnowflakeAuthenticator;
  warehouse: string | null;
  database: string;
  schema: string;
  role: string | null;
  access_url: string | null;
  created_at: Date;
  updated_at: Date;
}

const CONFIG_VIEW_COLUMNS = `id, user_id, account_identifier AS account, username AS user, authenticator, public_key_fingerprint, token_last4,
  warehouse, database, schema, role, access_url, created_at, updated_at`;

/** The user's active configuration (no secret), or null. */
export async function getSnowflakeConfiguration(
  db: Queryable,
  userId: string,
): Promise<SnowflakeConfigurationView | null> {
  const { rows } = await db.query<SnowflakeConfigurationView>(
    `SELECT ${CONFIG_VIEW_COLUMNS} FROM snowflake_configurations WHERE user_id = $1 AND is_active`,
    [userId],
  );
  return rows[0] ?? null;
}

/** Remove the user's configurations (the active one and earlier ones, with their secrets). Returns false when there was no active one. */
export async function deleteSnowflakeConfiguration(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ active: boolean }>(
    'DELETE FROM snowflake_configurations WHERE user_id = $1 RETURNING is_active AS active',
    [userId],
  );
  return rows.some((r) => r.active);
}

/**
 * The user's active configuration resolved to connection settings, the secret decrypted with `keys`
 * (call only inside activities and the API's test route). Null when the user has no active configuration.
 * @throws SecretError when the stored secret does not decrypt.
 */
export async function activeSettings(
  db: Queryable,
  userId: string,
  keys: SecretKeys,
): Promise<{ info: SnowflakeConfigurationView; settings: SnowflakeSettings } | null> {
  const { rows } = await db.query<SnowflakeConfigurationView & { secret_encrypted: string }>(
    `SELECT ${CONFIG_VIEW_COLUMNS}, secret_encrypted FROM snowflake_configurations WHERE user_id = $1 AND is_active`,
    [userId],
  );
  const r = rows[0];
  if (!r) return null;
  const { secret_encrypted: stored, ...info } = r;
  const settings: SnowflakeSettings = {
    account: r.account.replace(/\.snowflakecomputing\.com$/i, ''),
    username: r.user,
    authenticator: r.authenticator,
    ...unsealSecret(stored, keys, configBinding(r.user_id, r.authenticator)),
    ...(r.access_url ? { accessUrl: r.access_url.replace(/\/+$/, '') } : {}),
    ...(r.warehouse ? { warehouse: r.warehouse } : {}),
    database: r.database,
    schema: r.schema,
    ...(r.role ? { role: r.role } : {}),
  };
  return { info, settings };
}

/** Input of {@link saveSnowflakeConfiguration}. */
export interface SnowflakeConfigurationInput {
  userId: string;
  account: string;
  warehouse?: string | null;
  database: string;
  schema: string;
  username: string;
  /** Default SNOWFLAKE (password). */
  authenticator?: SnowflakeAuthenticator;
  /** Plain text; stored only as AES-256-GCM ciphertext. */
  secret: SnowflakeSecret;
  role?: string | null;
  accessUrl?: string | null;
}

/**
 * Store a user's configuration as the active one (an earlier active one is deactivated in the same
 * transaction). Returns the new configuration (no secret).
 */
export async function saveSnowflakeConfiguration(
  pool: pg.Pool,
  keys: SecretKeys,
  c: SnowflakeConfigurationInput,
): Promise<SnowflakeConfigurationView> {
  const authenticator = c.authenticator ?? 'SNOWFLAKE';
  const hints = secretHints(c.secret);
  return withTransaction(pool, async (client) => {
    await client.query(
      'UPDATE snowflake_configurations SET is_active = false, updated_at = now() WHERE user_id = $1 AND is_active',
      [c.userId],
    );
    const { rows } = await client.query<SnowflakeConfigurationView>(
      `INSERT INTO snowflake_configurations (user_id, account_identifier, warehouse, database, schema, username, authenticator, secret_encrypted,
         public_key_fingerprint, token_last4, role, access_url, is_active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, true) RETURNING ${CONFIG_VIEW_COLUMNS}`,
      [
        c.userId,
        c.account,
        c.warehouse ?? null,
        c.database,
        c.schema,
        c.username,
        authenticator,
        sealSecret(c.secret, keys, configBinding(c.userId, authenticator)),
        hints.public_key_fingerprint,
        hints.token_last4,
        c.role ?? null,
        c.accessUrl?.replace(/\/+$/, '') ?? null,
      ],
    );
    return rows[0];
  });
}

// ---------------------------------------------------------------- API reads and repairs
//
// Each takes a `scope`: the execution-upload user_id whose data the caller may see (a `user`-role API
// token), or null for every user's (an admin). The filter is part of the SQL, so another user's item
// reads as missing.

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
export async function executionSyncStatus(
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
