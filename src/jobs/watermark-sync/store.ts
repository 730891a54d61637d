/**
 * The watermark sync's control-plane state in PostgreSQL (migrations/0002): `sync_watermarks` (one
 * row per source table: position, status, counters) and `sync_errors` (failed batches).
 *
 * Every write is one statement, so the position, `last_run`, `last_status` and `rows_processed` always
 * change together. Position writes are guarded twice: by the epoch (a reset or backfill bumps it, and a
 * batch that started under the old epoch then advances nothing) and by `position_seq`, a counter every
 * advance bumps, so a batch advances the position only from the value it started with (compare-and-set).
 */
import type pg from 'pg';
import type { SyncPosition } from './contract.js';

/** A `sync_watermarks` row as the activities and the API read it. */
export interface WatermarkRow {
  sourceTable: string;
  targetTable: string | null;
  position: SyncPosition | null;
  completeBefore: string | null;
  epoch: number;
  /** Bumped by every advance of the position: the value a batch must find to advance it. */
  positionSeq: number;
  lastRun: string | null;
  lastStatus: string | null;
  lastError: string | null;
  rowsProcessed: number;
  rowsTotal: number;
  syncSuccessCount: number;
  syncFailureCount: number;
  lastSyncDurationSeconds: number | null;
  lastWorkflowId: string | null;
}

type Queryable = Pick<pg.Pool, 'query'>;

const COLS = `source_table, target_table, last_watermark, last_pk, complete_before, epoch, position_seq, last_run, last_status, last_error,
  rows_processed, rows_total, sync_success_count, sync_failure_count, last_sync_duration_seconds, last_workflow_id`;

function toRow(r: Record<string, unknown>): WatermarkRow {
  const wm = r.last_watermark as string | null;
  return {
    sourceTable: String(r.source_table),
    targetTable: (r.target_table as string | null) ?? null,
    position: wm === null ? null : { watermark: wm, pk: (r.last_pk as string[] | null) ?? null },
    completeBefore: (r.complete_before as string | null) ?? null,
    epoch: Number(r.epoch),
    positionSeq: Number(r.position_seq),
    lastRun: r.last_run ? new Date(r.last_run as string).toISOString() : null,
    lastStatus: (r.last_status as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    rowsProcessed: Number(r.rows_processed),
    rowsTotal: Number(r.rows_total),
    syncSuccessCount: Number(r.sync_success_count),
    syncFailureCount: Number(r.sync_failure_count),
    lastSyncDurationSeconds: r.last_sync_duration_seconds === null ? null : Number(r.last_sync_duration_seconds),
    lastWorkflowId: (r.last_workflow_id as string | null) ?? null,
  };
}

/** Create the table's row if missing (idempotent) and return it. */
export async function ensureWatermark(db: Queryable, sourceTable: string, targetTable: string): Promise<WatermarkRow> {
  const r = await db.query(
    `INSERT INTO sync_watermarks (source_table, target_table) VALUES ($1, $2)
     ON CONFLICT (source_table) DO UPDATE SET target_table = excluded.target_table
     RETURNING ${COLS}`,
    [sourceTable, targetTable],
  );
  return toRow(r.rows[0]);
}

/** All rows (status API, metrics), ordered by source table. */
export async function listWatermarks(db: Queryable): Promise<WatermarkRow[]> {
  const r = await db.query(`SELECT ${COLS} FROM sync_watermarks ORDER BY source_table`);
  return r.rows.map(toRow);
}

/** One row or null. */
export async function getWatermark(db: Queryable, sourceTable: string): Promise<WatermarkRow | null> {
  const r = await db.query(`SELECT ${COLS} FROM sync_watermarks WHERE source_table = $1`, [sourceTable]);
  return r.rows[0] ? toRow(r.rows[0]) : null;
}

/** Mark a run as started (status `running`, workflow id). Position untouched. */
export async function markRunning(db: Queryable, sourceTable: string, workflowId: string): Promise<void> {
  await db.query(
    `UPDATE sync_watermarks SET last_status = 'running', last_workflow_id = $2, updated_at = now() WHERE source_table = $1`,
    [sourceTable, workflowId],
  );
}

/**
 * What {@link advanceWatermark} did:
 * - `advanced`: the position is the batch's; `positionSeq` is the new counter value.
 * - `superseded`: the epoch moved (a reset or backfill) or the row is gone; nothing was written.
 * - `taken`: the counter had moved on from the batch's `positionSeq`: another attempt of the same batch
 *   (one Temporal retried after a lost heartbeat, or its retry) advanced first. Nothing was written; the
 *   stored position and counter are returned for the run to go on from. Whatever is stored was merged by
 *   whoever wrote it, so going on from there loses nothing.
 */
export type AdvanceOutcome =
  | { kind: 'advanced'; positionSeq: number }
  | { kind: 'superseded' }
  | { kind: 'taken'; positionSeq: number; position: SyncPosition | null };

/**
 * Advance the position after a batch's MERGE committed, in one statement with `last_run`,
 * `last_status`, `rows_processed` (rows of the current run so far) and `rows_total`. Compare-and-set:
 * it writes only when the epoch and `position_seq` are still those the batch started with, so an attempt
 * that outlived its retry cannot put back an earlier position after the run went on, and a retry after
 * its own earlier attempt advanced counts the batch's rows once. `positionSeq` undefined (a run started
 * by a release without the counter) guards by the epoch alone. One more statement when nothing was
 * written, to tell `superseded` from `taken`.
 */
export async function advanceWatermark(
  db: Queryable,
  u: {
    sourceTable: string;
    epoch: number;
    /** The counter value the batch started from (from the begin activity or the previous batch). */
    positionSeq: number | undefined;
    position: SyncPosition;
    completeBefore: string;
    batchRows: number;
    runRows: number;
  },
): Promise<AdvanceOutcome> {
  const r = await db.query<{ position_seq: string }>(
    `UPDATE sync_watermarks SET last_watermark = $3, last_pk = $4::jsonb, complete_before = $5, last_run = now(),
       last_status = 'running', last_error = NULL, rows_processed = $6, rows_total = rows_total + $7,
       position_seq = position_seq + 1, updated_at = now()
     WHERE source_table = $1 AND epoch = $2 AND ($8::bigint IS NULL OR position_seq = $8::bigint)
     RETURNING position_seq`,
    [
      u.sourceTable,
      u.epoch,
      u.position.watermark,
      JSON.stringify(u.position.pk),
      u.completeBefore,
      u.runRows,
      u.batchRows,
      u.positionSeq ?? null,
    ],
  );
  if (r.rows[0]) return { kind: 'advanced', positionSeq: Number(r.rows[0].position_seq) };
  const now = await getWatermark(db, u.sourceTable);
  if (!now || now.epoch !== u.epoch) return { kind: 'superseded' };
  return { kind: 'taken', positionSeq: now.positionSeq, position: now.position };
}

/** Close a run: success or idle (counters, duration); `rows_processed` = the run's rows. */
export async function finishRun(
  db: Queryable,
  u: { sourceTable: string; status: 'success' | 'idle' | 'superseded'; rows: number; durationSeconds: number },
): Promise<void> {
  await db.query(
    `UPDATE sync_watermarks SET last_run = now(), last_status = $2, last_error = NULL, rows_processed = $3,
       sync_success_count = sync_success_count + CASE WHEN $2 = 'superseded' THEN 0 ELSE 1 END,
       last_sync_duration_seconds = $4, updated_at = now()
     WHERE source_table = $1`,
    [u.sourceTable, u.status, u.rows, u.durationSeconds],
  );
}

/** How many primary keys of a failing batch `sync_errors.sample_keys` keeps. */
export const SAMPLE_KEYS_LIMIT = 100;

/** A failed batch: `sync_watermarks` gets status `error`, and `sync_errors` a row pointing at the batch. */
export interface BatchFailure {
  sourceTable: string;
  workflowId: string;
  runId: string;
  errorType: string | null;
  message: string;
  /** The batch started after this position (null: from the first row). */
  after: SyncPosition | null;
  batchSize: number;
  /** Primary keys of the first rows of the failing batch (each a list of text values in key order), or null when they could not be read. */
  sampleKeys: string[][] | null;
  rows: number;
  durationSeconds: number;
}

/** Record a failure in one transaction (status row + error row). Returns the sync_errors id. */
export async function recordFailure(pool: pg.Pool, f: BatchFailure): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `UPDATE sync_watermarks SET last_run = now(), last_status = 'error', last_error = $2, rows_processed = $3,
         sync_failure_count = sync_failure_count + 1, last_sync_duration_seconds = $4, updated_at = now()
       WHERE source_table = $1`,
      [f.sourceTable, f.message, f.rows, f.durationSeconds],
    );
    const sample = await client.query<{ id: string }>(
      `INSERT INTO sync_errors (source_table, workflow_id, run_id, error_type, error_message, after_watermark, after_pk, after_exclusive_watermark_only, batch_size, sample_keys)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::jsonb) RETURNING id`,
      [
        f.sourceTable,
        f.workflowId,
        f.runId,
        f.errorType,
        f.message,
        f.after?.watermark ?? null,
        f.after?.pk ? JSON.stringify(f.after.pk) : null,
        !!f.after && !f.after.pk,
        f.batchSize,
        f.sampleKeys ? JSON.stringify(f.sampleKeys) : null,
      ],
    );
    await client.query('COMMIT');
    return Number(sample.rows[0].id);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Reset a table's position (backfill): to the start (`after` null), or to "rows with watermark
 * strictly after `after`" (text in the watermark column's type). Bumps the epoch so a batch in flight
 * cannot write its old position back. Creates the row if missing.
 */
export async function resetWatermark(db: Queryable, sourceTable: string, after: string | null): Promise<void> {
  await db.query(
    `INSERT INTO sync_watermarks (source_table, complete_before, epoch, last_status) VALUES ($1, $2, 1, 'reset')
     ON CONFLICT (source_table) DO UPDATE SET last_watermark = NULL, last_pk = NULL, complete_before = $2,
       epoch = sync_watermarks.epoch + 1, last_status = 'reset', updated_at = now()`,
    [sourceTable, after],
  );
}

/**
 * Recent failed batches of a table (or all), newest first. `sample_keys` lists the primary keys of
 * the batch's first rows (up to {@link SAMPLE_KEYS_LIMIT}), each a list of text values in key order.
 */
export async function listErrors(
  db: Queryable,
  sourceTable: string | null,
  limit = 50,
): Promise<Record<string, unknown>[]> {
  const r = await db.query(
    `SELECT id, source_table, occurred_at, workflow_id, run_id, error_type, error_message, after_watermark, after_pk, after_exclusive_watermark_only, batch_size, sample_keys
     FROM sync_errors WHERE ($1::text IS NULL OR source_table = $1) ORDER BY occurred_at DESC, id DESC LIMIT $2`,
    [sourceTable, limit],
  );
  return r.rows;
}
