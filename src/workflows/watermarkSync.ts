/**
 * Watermark sync workflows (PostgreSQL → Snowflake). Deterministic: only `@temporalio/workflow`,
 * types and pure modules.
 *
 * - `watermarkSync` (parent, started by the Schedule every `sync_interval_seconds`, overlap skip):
 *   one `watermarkTableSync` child per configured table, at most `maxParallelTables` at a time.
 *   A failing table never stops the others; the parent reports each table's outcome and counts the
 *   failed ones.
 * - `watermarkTableSync` (child, workflow id `pg-sync-<name>/<source>` so one table never runs twice
 *   at once): begin (plan + the cheap "any new rows?" probe) → batches in (watermark, pk) order, each
 *   one activity that reads, stages, MERGEs and advances the watermark (compare-and-set on the stored
 *   position's write counter, which the run carries from batch to batch) → finish. Continues-as-new
 *   after `batchesPerRun` batches or when Temporal suggests it (long catch-ups). A batch that finds
 *   the table's epoch moved (a backfill reset the position) ends the run as `superseded`.
 *
 * Errors: activities retry with floe's policy (`activityRetry`: 5 attempts, exponential backoff from
 * 1 s); a persistent failure (src/errors.ts NonRetryable), or retries exhausted, records
 * `last_status='error'`, `last_error` and a `sync_errors` row pointing at the batch, then fails that
 * child only, with a message naming the table and the cause. A cancelled run records nothing and
 * reports `cancelled` (the batch in flight either committed its watermark or will be re-read).
 *
 * Search attributes (`setJobStatus`, kind watermark-sync): FloeTable = the source table (child) or
 * `watermark-sync:<name>` (parent), FloeStatus running → completed | failed | cancelled, FloeRows.
 */
import {
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  isCancellation,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { WatermarkSyncActivities } from '../activities/watermark-sync/index.js';
import { longActivity, rootCause, shortActivity } from '../errors.js';
import { setJobStatus, type FloeJobStatus } from '../jobs/common.js';
import {
  configSubject,
  tableWorkflowId,
  type SyncPosition,
  type TablePlanRef,
  type WatermarkSyncInput,
  type WatermarkSyncResult,
  type WatermarkTableSyncInput,
  type WatermarkTableSyncResult,
} from '../jobs/watermark-sync/contract.js';

/** Default batches per child run before continue-as-new. */
const BATCHES_PER_RUN = 200;

/**
 * The activities, on `taskQueue` (default: the workflow's): `short` for begin / finish / record
 * failure (src/errors.ts shortActivity), `batch` for a batch (up to 2 h, heartbeating: a dead worker's
 * batch is retried after `heartbeatSeconds`, default HEARTBEAT_TIMEOUT_SECONDS). Both retry with floe's policy.
 */
function acts(taskQueue: string | undefined, heartbeatSeconds?: number) {
  const queue = taskQueue ? { taskQueue } : {};
  const short = proxyActivities<WatermarkSyncActivities>(shortActivity(queue));
  const batch = proxyActivities<WatermarkSyncActivities>(longActivity('2h', heartbeatSeconds, queue));
  return { short, batch };
}

/** Upsert this run's job status (search attributes). */
function status(subject: string, s: FloeJobStatus, rows?: number): void {
  setJobStatus('watermark-sync', { subject, status: s, rows });
}

/** One table: plan, probe, batches, watermark; continues-as-new on long catch-ups. */
export async function watermarkTableSync(input: WatermarkTableSyncInput): Promise<WatermarkTableSyncResult> {
  const info = workflowInfo();
  const t = input.table;
  const { short, batch } = acts(input.activityTaskQueue, input.batchHeartbeatSeconds);
  const batchesPerRun = input.batchesPerRun ?? BATCHES_PER_RUN;
  const c = input.carry;
  const startedAtMs = c?.startedAtMs ?? Date.now();
  let rows = c?.rows ?? 0;
  let batches = c?.batches ?? 0;
  let binds = c?.binds ?? 0;
  let files = c?.files ?? 0;
  let position: SyncPosition | null = c?.position ?? null;
  // The stored position's write counter: each batch advances from it (compare-and-set). Undefined in a
  // run carried over from a release without it; the first batch then returns one.
  let positionSeq: number | undefined = c?.positionSeq;
  let plan: TablePlanRef | undefined = c?.plan;
  status(t.source, 'running', rows);

  const result = (s: WatermarkTableSyncResult['status']): WatermarkTableSyncResult => ({
    source: t.source,
    status: s,
    rows,
    batches,
    binds,
    files,
    durationMs: Date.now() - startedAtMs,
    position,
  });

  const finish = async (s: 'success' | 'idle' | 'superseded'): Promise<WatermarkTableSyncResult> => {
    await short.watermarkSyncFinishTable({ source: t.source, status: s, rows, durationMs: Date.now() - startedAtMs });
    status(t.source, 'completed', rows);
    return result(s);
  };

  const fail = async (err: unknown, after: SyncPosition | null): Promise<never> => {
    if (isCancellation(err)) {
      status(t.source, 'cancelled', rows);
      throw err;
    }
    const cause = rootCause(err);
    await short.watermarkSyncRecordFailure({
      sourceTable: t.source,
      workflowId: info.workflowId,
      runId: info.runId,
      errorType: cause.type,
      message: cause.message,
      after,
      batchSize: t.batchSize,
      rows,
      durationMs: Date.now() - startedAtMs,
      plan,
    });
    status(t.source, 'failed', rows);
    throw ApplicationFailure.create({
      type: cause.type ?? 'Transient',
      message: `watermark sync of ${t.source} failed: ${cause.message}`,
      nonRetryable: true,
    });
  };

  if (!plan) {
    let begun;
    try {
      begun = await short.watermarkSyncBeginTable({ table: t, workflowId: info.workflowId });
    } catch (err) {
      return fail(err, null);
    }
    if (!begun.hasRows) return finish('idle');
    plan = begun.plan;
    position = begun.start;
    positionSeq = begun.positionSeq;
  }

  for (let inRun = 0; ; inRun++) {
    if (inRun >= batchesPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof watermarkTableSync>({
        ...input,
        carry: { plan, position, positionSeq, rows, batches, startedAtMs, binds, files },
      });
    }
    let r;
    try {
      r = await batch.watermarkSyncBatch({ table: t, plan, after: position, positionSeq, runRowsBefore: rows });
    } catch (err) {
      return fail(err, position);
    }
    if (r.rows > 0) {
      batches++;
      rows += r.rows;
      if (r.method === 'binds') binds++;
      if (r.method === 'files') files++;
    }
    if (r.superseded) return finish('superseded');
    position = r.position;
    positionSeq = r.positionSeq;
    if (r.done) break;
  }
  return finish(rows > 0 ? 'success' : 'idle');
}

/** The scheduled run: every configured table (or `only`) as a child, bounded concurrency. */
export async function watermarkSync(input: WatermarkSyncInput): Promise<WatermarkSyncResult> {
  const cfg = input.config;
  const subject = configSubject(cfg.name);
  status(subject, 'running');
  const tables = input.only ? cfg.tables.filter((t) => input.only!.includes(t.source)) : cfg.tables;
  const results: WatermarkTableSyncResult[] = new Array(tables.length);
  let next = 0;

  const runOne = async (i: number): Promise<void> => {
    const t = tables[i];
    const started = Date.now();
    const base = { source: t.source, rows: 0, batches: 0, binds: 0, files: 0, position: null };
    try {
      const child = await startChild(watermarkTableSync, {
        workflowId: tableWorkflowId(cfg.name, t.source),
        args: [
          {
            configName: cfg.name,
            table: t,
            activityTaskQueue: input.activityTaskQueue,
            batchHeartbeatSeconds: input.batchHeartbeatSeconds,
            batchesPerRun: input.batchesPerRun,
          },
        ],
      });
      results[i] = await child.result();
    } catch (err) {
      // This run was cancelled (its children are cancelled with it); a child cancelled on its own is
      // reported as that table's error below.
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) {
        status(subject, 'cancelled');
        throw err;
      }
      const durationMs = Date.now() - started;
      results[i] =
        err instanceof WorkflowExecutionAlreadyStartedError
          ? { ...base, status: 'skipped', durationMs, error: 'a sync of this table is already running' }
          : { ...base, status: 'error', durationMs, error: rootCause(err).message };
    }
  };

  const lane = async (): Promise<void> => {
    while (next < tables.length) await runOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(cfg.maxParallelTables, tables.length) }, lane));

  const rows = results.reduce((n, r) => n + r.rows, 0);
  const failed = results.filter((r) => r.status === 'error').length;
  status(subject, failed ? 'failed' : 'completed', rows);
  return { tables: results, rows, failed };
}
