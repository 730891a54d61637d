/**
 * Job metrics where jobs end: the worker-side half of src/workflows/jobMetricsInterceptor.ts. The
 * interceptor reports each workflow execution's start and end through the `floeJobMetrics` sink; this
 * module maps the workflow to its job, reads the labels from the workflow's input and the rows and
 * bytes from its result, and records them (src/metrics/index.ts). Scheduled runs are counted like any
 * other: they are the same workflows.
 *
 * Orchestrating workflows (`watermarkSync`, `executionUploadDrain`, `cacheRefreshScheduled`) are not
 * counted: each of their tables, items or refreshes is a child workflow counted on its own, so rows
 * are never counted twice; the drain's items, which it uploads itself, it reports one by one
 * (`itemStarted`/`itemEnded`) as `executionUpload` runs.
 */
import type { InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { CacheRefreshInput, CacheRefreshResult } from '../jobs/cache-refresh/contract.js';
import type { JobKind } from '../jobs/common.js';
import type { ExecutionUploadResult } from '../jobs/execution-upload/contract.js';
import type { TableSyncInput, TableSyncResult } from '../jobs/table-sync/contract.js';
import type { WatermarkTableSyncInput, WatermarkTableSyncResult } from '../jobs/watermark-sync/contract.js';
import type * as workflows from '../workflows/index.js';
import type { JobMetricsSinks, RunEnd } from '../workflows/jobMetricsInterceptor.js';
import { recordCacheRefresh, recordJobEnded, recordJobStarted, type JobOutcome } from './index.js';

/** How one job workflow's input and result read as metrics. */
interface JobWorkflow<I, R> {
  job: JobKind;
  /** The `table` label: bounded (a table or cache name), never an id. */
  table(input: I): string;
  /** Outcome of a run that returned (some jobs report a failure in their result). */
  outcome?(result: R): JobOutcome;
  rows(result: R): number;
  bytes?(result: R): number;
  /** Job-specific metrics of a returned result. */
  extra?(input: I, result: R): void;
}

const define = <I, R>(w: JobWorkflow<I, R>) => w as unknown as JobWorkflow<unknown, unknown>;

/**
 * Every workflow floe registers (the exports of src/workflows/index.ts, so a new workflow does not
 * compile until it is listed here): a job, or null for an orchestrator (its children are the jobs).
 */
const WORKFLOWS: Record<Exclude<keyof typeof workflows, 'progressQuery'>, JobWorkflow<unknown, unknown> | null> = {
  tableSync: define<TableSyncInput, TableSyncResult>({
    job: 'table-sync',
    table: (i) => `${i.database}.${i.schema}.${i.table}`,
    rows: (r) => r.rowsRead,
    bytes: (r) => r.bytes,
  }),
  watermarkTableSync: define<WatermarkTableSyncInput, WatermarkTableSyncResult>({
    job: 'watermark-sync',
    table: (i) => i.table.source,
    rows: (r) => r.rows,
  }),
  cacheRefresh: define<CacheRefreshInput, CacheRefreshResult>({
    job: 'cache-refresh',
    table: (i) => i.cacheName,
    outcome: (r) => (r.result === 'ERROR' ? 'failed' : 'completed'),
    rows: (r) => r.rows_refreshed,
    extra: (i, r) => recordCacheRefresh(i.cacheName, r.result),
  }),
  // The subject of an upload is an execution (unbounded): no table label.
  executionUpload: define<unknown, ExecutionUploadResult>({
    job: 'execution-upload',
    table: () => '',
    outcome: (r) => (r.status === 'failed' ? 'failed' : 'completed'),
    rows: (r) => r.rows,
  }),
  watermarkSync: null,
  executionUploadDrain: null,
  cacheRefreshScheduled: null,
};

/** The job a workflow type runs, or undefined for orchestrators and unknown types. */
function jobWorkflow(workflowType: string): JobWorkflow<unknown, unknown> | undefined {
  return (WORKFLOWS as Record<string, JobWorkflow<unknown, unknown> | null>)[workflowType] ?? undefined;
}

function ended(info: WorkflowInfo, input: unknown, end: RunEnd, result?: unknown): void {
  jobEnded(info.workflowType, input, end, (Date.now() - info.startTime.getTime()) / 1000, result);
}

/** Records the end of a run of the job workflow `workflowType` (nothing for an orchestrator). */
function jobEnded(workflowType: string, input: unknown, end: RunEnd, durationSeconds: number, result?: unknown): void {
  const w = jobWorkflow(workflowType);
  if (!w) return;
  const labels = { job: w.job, table: w.table(input) };
  if (end !== 'returned') {
    recordJobEnded({ ...labels, outcome: end, durationSeconds });
    return;
  }
  const outcome = w.outcome?.(result) ?? 'completed';
  const done = outcome === 'completed';
  recordJobEnded({
    ...labels,
    outcome,
    durationSeconds,
    ...(done && { rows: w.rows(result), bytes: w.bytes?.(result) }),
  });
  w.extra?.(input, result);
}

/**
 * The `floeJobMetrics` sink for `Worker.create({ sinks })`: every worker whose workflow bundle
 * includes the interceptor registers it (else Temporal logs each call as an unregistered sink).
 */
export function jobMetricsSinks(): InjectedSinks<JobMetricsSinks> {
  return {
    floeJobMetrics: {
      started: { fn: (info, input) => jobStarted(info.workflowType, input) },
      ended: { fn: ended },
      itemStarted: { fn: (_info, workflowType, input) => jobStarted(workflowType, input) },
      itemEnded: { fn: (_info, ...args) => jobEnded(...args) },
    },
  };
}

/** Records the start of a run of the job workflow `workflowType` (nothing for an orchestrator). */
function jobStarted(workflowType: string, input: unknown): void {
  const w = jobWorkflow(workflowType);
  if (w) recordJobStarted({ job: w.job, table: w.table(input) });
}
