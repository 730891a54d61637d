/**
 * The `tableSync` workflow: one run per job (workflow id = job id), Snowflake → DuckDB, full refresh
 * or incremental. Deterministic: only `@temporalio/workflow`, types and constants.
 *
 * Steps: status "running" → describe (schema + stats) → pick the method (`auto`: stage at
 * ≥ AUTO_STAGE_MIN_ROWS source rows) → transfer (unload/GET/load or stream, in one activity) →
 * status "completed". Once the transfer has returned (it committed), recording completion runs in a
 * non-cancellable scope and the run completes even if a cancellation arrived meanwhile. On failure or
 * cancellation before that, cleanup (REMOVE of the job's stage path, local files, staging table) and
 * status run in a non-cancellable scope; the failure names the table and the cause.
 *
 * Search attributes (the job log): FloeJobKind=table_sync, FloeTable=DB.SCHEMA.TABLE,
 * FloeTarget (the DuckDB target), FloeStrategy, FloeStatus (running → completed/failed/cancelled),
 * and at the end FloeRows (rows in the target) and FloeRowsRead; the result carries every count
 * (TableSyncCounts), verified by the transfer activity before it commits.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { TableSyncActivities } from '../activities/table-sync/index.js';
import { rootCause, longActivity, NonRetryable, shortActivity } from '../errors.js';
import {
  AUTO_STAGE_MIN_ROWS,
  TABLE_SYNC_PROGRESS_QUERY,
  type TableSyncInput,
  type TableSyncProgress,
  type TableSyncResult,
} from '../jobs/table-sync/contract.js';
import { setJobStatus, type FloeJobStatus } from '../jobs/common.js';

/**
 * `progress` query: the workflow's step, rows loaded (known once the transfer returns) and a full
 * refresh's expected rows (the source's statistics). The client adds the transfer's heartbeats.
 */
export const progressQuery = defineQuery<TableSyncProgress>(TABLE_SYNC_PROGRESS_QUERY);

const short = proxyActivities<TableSyncActivities>(shortActivity());

/**
 * The activities that write the DuckDB file (transfer, cleanup), on the DuckDB owner's queue
 * (`input.transferTaskQueue`; absent = this workflow's queue): only the host holding the file runs them.
 */
function duckdbActivities(input: TableSyncInput) {
  const taskQueue = input.transferTaskQueue ? { taskQueue: input.transferTaskQueue } : {};
  return {
    transfer: proxyActivities<TableSyncActivities>(
      longActivity('6h', input.heartbeatTimeoutSeconds, {
        // Wait for the activity's own `finally` (REMOVE, local delete) before the workflow moves on.
        cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        ...taskQueue,
      }),
    ),
    cleanup: proxyActivities<TableSyncActivities>(shortActivity(taskQueue)),
  };
}

/** Table sync workflow. Returns the job's stats; fails with the table and the cause named. */
export async function tableSync(input: TableSyncInput): Promise<TableSyncResult> {
  const jobId = workflowInfo().workflowId;
  const started = Date.now();
  const source = { database: input.database, schema: input.schema, table: input.table };
  const display = `${input.database}.${input.schema}.${input.table}`;
  let progress: TableSyncProgress = { phase: 'schema', rowsLoaded: 0 };
  setHandler(progressQuery, () => progress);
  const setStatus = (status: FloeJobStatus, counts?: { rowsInTarget: number; rowsRead: number }) =>
    setJobStatus('table-sync', {
      subject: display,
      status,
      strategy: input.strategy,
      ...(counts ? { rows: counts.rowsInTarget, rowsRead: counts.rowsRead } : {}),
    });
  setStatus('running');
  const duckdb = duckdbActivities(input);

  try {
    if (input.strategy === 'incremental' && (input.lagSeconds ?? 0) > 0 && !input.primaryKey?.length) {
      throw ApplicationFailure.create({
        type: NonRetryable.InvalidRequest,
        message: `lag_seconds needs a primary key: ${display} has none, and rows re-read from before the high-water mark would be appended twice`,
        nonRetryable: true,
      });
    }
    await short.tableSyncRecordStatus({ tableId: input.tableId, jobId, status: 'running' });
    const desc = await short.tableSyncDescribe({ tableId: input.tableId, ...source });
    let method: 'stage' | 'stream';
    if (input.method === 'auto') {
      const rows = desc.rowCount ?? (await short.tableSyncCountSource(source));
      method = rows >= AUTO_STAGE_MIN_ROWS ? 'stage' : 'stream';
    } else method = input.method;

    const rowsTotal = input.strategy === 'full' ? (desc.rowCount ?? undefined) : undefined;
    progress = { phase: 'transfer', rowsLoaded: 0, rowsTotal };
    const r = await duckdb.transfer.tableSyncTransfer({
      jobId,
      tableId: input.tableId,
      source,
      target: input.target,
      strategy: input.strategy,
      method,
      columns: desc.columns,
      watermarkColumn: input.watermarkColumn,
      primaryKey: input.primaryKey,
      lagSeconds: input.lagSeconds,
      batchRows: input.batchRows,
    });
    // The transfer returned, so it committed: the target holds the new rows (a cancellation that
    // reached the activity too late to stop its commit is answered by the activity completing). From
    // here the job has completed whatever cancellation arrives, so recording it cannot be cancelled
    // and the run ends completed: `cancelled` always means the previous data is intact.
    return await CancellationScope.nonCancellable(async () => {
      progress = { phase: 'done', rowsLoaded: r.rowsRead, rowsTotal: r.sourceRows ?? undefined };
      await short.tableSyncRecordStatus({
        tableId: input.tableId,
        jobId,
        status: 'completed',
        rowCount: r.rowsInTarget,
        sizeBytes: desc.bytes,
        highWaterMark: r.watermark,
      });
      setStatus('completed', r);
      return {
        sourceRows: r.sourceRows,
        rowsRead: r.rowsRead,
        rowsInserted: r.rowsInserted,
        rowsUpdated: r.rowsUpdated,
        rowsInTarget: r.rowsInTarget,
        bytes: r.bytes,
        method: r.method,
        strategy: input.strategy,
        durationMs: Date.now() - started,
        watermark: r.watermark,
        target: r.target,
      };
    });
  } catch (err) {
    const cancelled = isCancellation(err);
    const cause = rootCause(err);
    const message = cancelled
      ? `table sync of ${display} was cancelled`
      : `table sync of ${display} failed: ${cause.message}`;
    await CancellationScope.nonCancellable(async () => {
      progress = { ...progress, phase: 'cleanup' };
      try {
        await duckdb.cleanup.tableSyncCleanup({ jobId, tableId: input.tableId, source, target: input.target });
      } catch {
        // Best effort: the stage path and temp dir are job-scoped, a later cleanup can remove them.
      }
      try {
        await short.tableSyncRecordStatus({
          tableId: input.tableId,
          jobId,
          status: cancelled ? 'cancelled' : 'failed',
          error: message,
        });
      } catch {
        // Status mirroring must not mask the original failure.
      }
    });
    setStatus(cancelled ? 'cancelled' : 'failed');
    if (cancelled) throw err;
    throw ApplicationFailure.create({
      type: cause.type ?? 'TableSyncFailed',
      message,
      nonRetryable: true,
      cause: err as Error,
    });
  }
}
