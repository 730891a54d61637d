/**
 * Watermark sync workflows (PostgreSQL → Snowflake, seed 002). Deterministic: only
 * `@temporalio/workflow`, types and constants.
 *
 * - `watermarkSync` (parent, started by the Schedule every `sync_interval_seconds`, overlap skip):
 *   one `watermarkTableSync` child per configured table, at most `maxParallelTables` at a time.
 *   A failing table never stops the others; the parent reports each table's outcome.
 * - `watermarkTableSync` (child, workflow id `pg-sync-<name>/<source>` so one table never runs twice
 *   at once): begin (plan + the cheap "any new rows?" probe) → batches in (watermark, pk) order, each
 *   one activity that reads, stages, MERGEs and advances the watermark → finish. Continues-as-new
 *   after `batchesPerRun` batches or when Temporal suggests it (long catch-ups).
 *
 * Errors: activities retry transient failures (5 attempts, exponential backoff from 1 s); a
 * persistent failure (src/errors.ts NonRetryable), or retries exhausted, records `last_status='error'`,
 * `last_error` and a `sync_errors` row pointing at the batch, then fails that child only.
 *
 * Search attributes: FloeJobKind=watermark_sync, FloeTable (child: source table; parent: `pg-sync:<name>`),
 * FloeStatus (running → completed | failed), FloeRows.
 */
import {
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { WatermarkSyncActivities } from '../activities/watermarkSync.js';
import { rootCause, activityRetry } from '../errors.js';
import { SA, type FloeJobStatus } from '../jobs/common.js';
import {
  tableWorkflowId,
  WATERMARK_SYNC_JOB_KIND,
  type SyncPosition,
  type TablePlanRef,
  type WatermarkSyncInput,
  type WatermarkSyncResult,
  type WatermarkTableSyncInput,
  type WatermarkTableSyncResult,
} from '../jobs/watermarkSync.js';

const retry = activityRetry(5);

function acts(taskQueue: string | undefined, heartbeatSeconds: number) {
  const short = proxyActivities<WatermarkSyncActivities>({
    startToCloseTimeout: '2m',
    retry,
    ...(taskQueue ? { taskQueue } : {}),
  });
  const batch = proxyActivities<WatermarkSyncActivities>({
    startToCloseTimeout: '2h',
    heartbeatTimeout: `${heartbeatSeconds}s`,
    retry,
    ...(taskQueue ? { taskQueue } : {}),
  });
  return { short, batch };
}

function setAttrs(table: string, status: FloeJobStatus, rows?: number): void {
  upsertSearchAttributes([
    { key: SA.jobKind, value: WATERMARK_SYNC_JOB_KIND },
    { key: SA.table, value: table },
    { key: SA.status, value: status },
    ...(rows !== undefined ? [{ key: SA.rows, value: rows }] : []),
  ]);
}

/** One table: plan, probe, batches, watermark; continues-as-new on long catch-ups. */
export async function watermarkTableSync(input: WatermarkTableSyncInput): Promise<WatermarkTableSyncResult> {
  const info = workflowInfo();
  const t = input.table;
  const { short, batch } = acts(input.activityTaskQueue, input.batchHeartbeatSeconds ?? 60);
  const batchesPerRun = input.batchesPerRun ?? 200;
  const c = input.carry;
  const startedAtMs = c?.startedAtMs ?? Date.now();
  let rows = c?.rows ?? 0;
  let batches = c?.batches ?? 0;
  let binds = c?.binds ?? 0;
  let files = c?.files ?? 0;
  let position: SyncPosition | null = c?.position ?? null;
  let plan: TablePlanRef | undefined = c?.plan;
  setAttrs(t.source, 'running', rows);

  const result = (status: WatermarkTableSyncResult['status'], error?: string): WatermarkTableSyncResult => ({
    source: t.source,
    status,
    rows,
    batches,
    binds,
    files,
    durationMs: Date.now() - startedAtMs,
    position,
    ...(error ? { error } : {}),
  });

  const fail = async (err: unknown, after: SyncPosition | null): Promise<never> => {
    const cause = rootCause(err);
    await short.pgSyncRecordFailure({
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
    setAttrs(t.source, 'failed', rows);
    throw ApplicationFailure.create({
      type: cause.type ?? 'Transient',
      message: `watermark sync of ${t.source} failed: ${cause.message}`,
      nonRetryable: true,
    });
  };

  if (!plan) {
    let begun;
    try {
      begun = await short.pgSyncBeginTable({ table: t, workflowId: info.workflowId });
    } catch (err) {
      return fail(err, null);
    }
    if (!begun.hasRows) {
      await short.pgSyncFinishTable({
        source: t.source,
        status: 'idle',
        rows: 0,
        durationMs: Date.now() - startedAtMs,
      });
      setAttrs(t.source, 'completed', 0);
      return result('idle');
    }
    plan = begun.plan;
    position = begun.start;
  }

  for (let inRun = 0; ; inRun++) {
    if (inRun >= batchesPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof watermarkTableSync>({
        ...input,
        carry: { plan, position, rows, batches, startedAtMs, binds, files },
      });
    }
    let r;
    try {
      r = await batch.pgSyncBatch({ table: t, plan, after: position, runRowsBefore: rows });
    } catch (err) {
      return fail(err, position);
    }
    if (r.rows > 0) {
      batches++;
      rows += r.rows;
      if (r.method === 'binds') binds++;
      if (r.method === 'files') files++;
    }
    if (r.superseded) {
      await short.pgSyncFinishTable({
        source: t.source,
        status: 'superseded',
        rows,
        durationMs: Date.now() - startedAtMs,
      });
      setAttrs(t.source, 'completed', rows);
      return result('superseded');
    }
    position = r.position;
    if (r.done) break;
  }
  const status = rows > 0 ? 'success' : 'idle';
  await short.pgSyncFinishTable({ source: t.source, status, rows, durationMs: Date.now() - startedAtMs });
  setAttrs(t.source, 'completed', rows);
  return result(status);
}

/** The scheduled run: every configured table (or `only`) as a child, bounded concurrency. */
export async function watermarkSync(input: WatermarkSyncInput): Promise<WatermarkSyncResult> {
  const cfg = input.config;
  setAttrs(`pg-sync:${cfg.name}`, 'running');
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
      if ((err as { name?: string })?.name === 'WorkflowExecutionAlreadyStartedError') {
        results[i] = {
          ...base,
          status: 'skipped',
          durationMs: Date.now() - started,
          error: 'a sync of this table is already running',
        };
      } else {
        results[i] = { ...base, status: 'error', durationMs: Date.now() - started, error: rootCause(err).message };
      }
    }
  };

  const lane = async (): Promise<void> => {
    while (next < tables.length) await runOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(cfg.maxParallelTables, tables.length) }, lane));

  const rows = results.reduce((n, r) => n + r.rows, 0);
  const failed = results.filter((r) => r.status === 'error').length;
  setAttrs(`pg-sync:${cfg.name}`, failed ? 'failed' : 'completed', rows);
  return { tables: results, rows, failed };
}
