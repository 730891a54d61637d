/**
 * Activities of the watermark sync (PostgreSQL → Snowflake), named `watermarkSync*`:
 *
 * - `watermarkSyncBeginTable` (begin.ts): plan a table's run and probe for new rows.
 * - `watermarkSyncBatch` (batch.ts): read, stage, MERGE one batch and advance the watermark; rows
 *   never leave the activity.
 * - `watermarkSyncFinishTable`: close a run (status, counters, duration); a plain UPDATE, idempotent.
 * - `watermarkSyncRecordFailure`: record a failed batch. Not idempotent: a retry after a commit whose
 *   reply was lost records the failure twice (one more `sync_errors` row, failure count + 2), which
 *   only over-reports an error log.
 *
 * Errors leave as typed failures through `wrapActivities` (src/errors.ts); source reads are
 * classified by `classifyPostgres` with the table named (source.ts).
 */
import { SnowflakeSessionCache } from '../../connectors/snowflake-sessions.js';
import type { TablePlanRef } from '../../jobs/watermark-sync/contract.js';
import * as Q from '../../jobs/watermark-sync/sql.js';
import * as store from '../../jobs/watermark-sync/store.js';
import { runBatch } from './batch.js';
import { beginTable } from './begin.js';
import type { BatchInput, BeginInput, FinishInput, WatermarkSyncActivityDeps, WatermarkSyncDeps } from './types.js';

export type { BatchInput, BatchResult, BeginInput, BeginResult, FinishInput, WatermarkSyncDeps } from './types.js';

/** Input of `watermarkSyncRecordFailure`: the failure, and the plan when the run had one (for the batch's keys). */
export type RecordFailureInput = Omit<store.BatchFailure, 'durationSeconds' | 'sampleKeys'> & {
  durationMs: number;
  plan?: TablePlanRef;
};

/** Build the watermark sync activities (plain async functions; the worker wraps them with `wrapActivities`). */
export function createWatermarkSyncActivities(deps: WatermarkSyncDeps) {
  const d: WatermarkSyncActivityDeps = {
    ...deps,
    sessions: deps.sessions ?? new SnowflakeSessionCache(),
    logger: deps.logger?.child({ component: 'watermark-sync' }),
  };

  /**
   * Plan a table's run: check the source (table, watermark, pk, soft-delete columns and their types)
   * and the Snowflake target (created from the source's columns when `create_target` is set), map
   * columns, read the stored position and probe for rows after it. Also marks the run `running`.
   * @throws TableNotFound, SchemaMismatch, InvalidRequest (see begin.ts).
   */
  async function watermarkSyncBeginTable(input: BeginInput) {
    return beginTable(d, input);
  }

  /** One batch: read, transform, stage (binds or files), MERGE, advance the position (see batch.ts). */
  async function watermarkSyncBatch(input: BatchInput) {
    return runBatch(d, input);
  }

  /** Close a run as success / idle / superseded (counters, duration). */
  async function watermarkSyncFinishTable(input: FinishInput): Promise<void> {
    await store.finishRun(d.pool, {
      sourceTable: input.source,
      status: input.status,
      rows: input.rows,
      durationSeconds: input.durationMs / 1000,
    });
  }

  /**
   * Record a failed batch (status `error`, last_error, a sync_errors row pointing at the batch, with
   * the primary keys of its first rows as the source holds them now).
   * @returns the `sync_errors` id. Given no plan (the failure came before one was made), or when the
   *   source cannot be read, no keys are kept.
   */
  async function watermarkSyncRecordFailure(input: RecordFailureInput): Promise<number> {
    const { durationMs, plan, ...rest } = input;
    let sampleKeys: string[][] | null = null;
    if (plan) {
      const q = Q.batchKeysSql(plan, input.after, Math.min(store.SAMPLE_KEYS_LIMIT, input.batchSize));
      sampleKeys = await d.sourcePool.query<{ keys: string[] }>(q.sql, q.params).then(
        (r) => r.rows.map((row) => row.keys),
        (err: unknown) => {
          d.logger?.warn(
            { source: input.sourceTable, err: (err as Error).message },
            'could not read the failing batch keys',
          );
          return null;
        },
      );
    }
    return store.recordFailure(d.pool, { ...rest, sampleKeys, durationSeconds: durationMs / 1000 });
  }

  return { watermarkSyncBeginTable, watermarkSyncBatch, watermarkSyncFinishTable, watermarkSyncRecordFailure };
}

/** The activity interface (for `proxyActivities` in workflows; type import only). */
export type WatermarkSyncActivities = ReturnType<typeof createWatermarkSyncActivities>;
