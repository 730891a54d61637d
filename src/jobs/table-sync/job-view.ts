/**
 * Table sync runs and Schedules as the API reports them, built from Temporal's descriptions: the
 * search attributes (FloeTable, FloeTarget, FloeStrategy, FloeStatus, FloeRows) and memo a run starts
 * with, its execution status, and — for a running job — the transfer activity's last heartbeat.
 */
import {
  type ScheduleSummary,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import { defaultPayloadConverter, type Payload, type TypedSearchAttributes } from '@temporalio/common';
import { SA } from '../common.js';
import type {
  SyncStrategy,
  TableSyncJobProgress,
  TableSyncProgress,
  TableSyncResult,
  TransferMethod,
  TransferProgress,
} from './contract.js';
import { qualifiedTableName, type JobStatus } from './names.js';

/** One table sync job as the API reports it. Times are ISO-8601 UTC strings. */
export interface TableSyncJob {
  job_id: string;
  run_id: string;
  database_name: string | null;
  schema_name: string | null;
  table_name: string | null;
  /** `DB.SCHEMA.TABLE`. */
  table: string | null;
  /** DuckDB target, `"SCHEMA"."TABLE"` (FloeTarget); null for jobs started before targets were recorded. */
  target: string | null;
  strategy: SyncStrategy | null;
  method: TransferMethod | null;
  status: JobStatus;
  /** Temporal's own status name (RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, ...). */
  temporal_status: WorkflowExecutionStatusName;
  started_at: string;
  completed_at: string | null;
  /** Result of a completed job (getJob only; null in lists). */
  stats: TableSyncResult | null;
  /** Failure message of a failed/cancelled job (getJob only). */
  error: string | null;
  /**
   * Failure type of a failed job (the root ApplicationFailure type from src/errors.ts, e.g.
   * TableNotFound, UnsupportedType, InvalidRequest), or null.
   */
  error_type: string | null;
  /**
   * Progress of a running job (getJob only, {@link jobProgress}): the workflow's `progress` query
   * refined by the transfer activity's last heartbeat. Null if the workflow did not answer (no worker
   * polling yet).
   */
  progress: TableSyncJobProgress | null;
  /** Rows in the target after the run, from the FloeRows search attribute when the workflow set it. */
  rows: number | null;
}

function sa<T>(
  attrs: TypedSearchAttributes | undefined,
  key: Parameters<TypedSearchAttributes['get']>[0],
): T | undefined {
  try {
    return attrs?.get(key) as T | undefined;
  } catch {
    return undefined;
  }
}

/** Map Temporal's execution status (plus FloeStatus for pending vs running) to the job status. */
export function jobStatusOf(temporal: WorkflowExecutionStatusName, floeStatus: string | undefined): JobStatus {
  switch (temporal) {
    case 'RUNNING':
    case 'PAUSED':
    case 'CONTINUED_AS_NEW':
      return floeStatus === 'pending' ? 'pending' : 'running';
    case 'COMPLETED':
      return 'completed';
    case 'CANCELLED':
    case 'TERMINATED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

/** A job from a listing or description (stats, error and progress left null for the caller to fill). */
export function jobFromInfo(info: Omit<WorkflowExecutionInfo, 'raw'>): TableSyncJob {
  const memo = (info.memo ?? {}) as Partial<
    Record<'database' | 'schema' | 'table' | 'target' | 'strategy' | 'method', string>
  >;
  const attrs = info.typedSearchAttributes;
  const rows = sa<number | bigint>(attrs, SA.rows);
  return {
    job_id: info.workflowId,
    run_id: info.runId,
    database_name: memo.database ?? null,
    schema_name: memo.schema ?? null,
    table_name: memo.table ?? null,
    table: sa<string>(attrs, SA.table) ?? null,
    target: sa<string>(attrs, SA.target) ?? memo.target ?? null,
    strategy: (sa<string>(attrs, SA.strategy) ?? memo.strategy ?? null) as SyncStrategy | null,
    method: (memo.method ?? null) as TransferMethod | null,
    status: jobStatusOf(info.status.name, sa<string>(attrs, SA.status)),
    temporal_status: info.status.name,
    started_at: info.startTime.toISOString(),
    completed_at: info.closeTime ? info.closeTime.toISOString() : null,
    stats: null,
    error: null,
    error_type: null,
    progress: null,
    rows: rows === undefined || rows === null ? null : Number(rows),
  };
}

/** The transfer activity's last heartbeat details, decoded (JSON payloads), or undefined. */
export function heartbeatOf(desc: WorkflowExecutionDescription): unknown {
  const pending = desc.raw.pendingActivities ?? [];
  for (const a of pending) {
    const payload = a.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    try {
      return defaultPayloadConverter.fromPayload(payload as Payload);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const TRANSFER_PHASES: readonly TransferProgress['phase'][] = ['unload', 'download', 'load', 'stream'];

/** A non-negative number from decoded heartbeat details, else null. */
function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

/**
 * A running job's progress: the workflow's step (`query`, its `progress` query) and, while it is in
 * `transfer`, the transfer activity's last heartbeat details (`heartbeat`, {@link heartbeatOf}: a
 * {@link TransferProgress}, read defensively since it comes from another process, maybe another
 * version): its phase, rows loaded, rows expected (else the workflow's estimate from the source's
 * statistics), bytes and rate.
 */
export function jobProgress(query: TableSyncProgress, heartbeat: unknown): TableSyncJobProgress {
  const h = (query.phase === 'transfer' && typeof heartbeat === 'object' && heartbeat) || {};
  const d = h as Partial<Record<keyof TransferProgress, unknown>>;
  const phase = TRANSFER_PHASES.find((p) => p === d.phase) ?? query.phase;
  return {
    phase,
    rowsLoaded: Math.max(query.rowsLoaded, count(d.rowsLoaded) ?? 0),
    rowsTotal: count(d.rowsTotal) ?? query.rowsTotal ?? null,
    bytes: count(d.bytes) ?? 0,
    rowsPerSecond: count(d.rowsPerSecond),
  };
}

/** When a Schedule fires: every `intervalSeconds`, or by a cron expression (UTC). */
export type ScheduleWhen =
  { intervalSeconds: number; cron?: undefined } | { cron: string; intervalSeconds?: undefined };

/** A table sync Schedule as the API reports it. */
export interface TableSyncSchedule {
  schedule_id: string;
  table: string | null;
  database_name: string | null;
  schema_name: string | null;
  table_name: string | null;
  /** DuckDB target, `"SCHEMA"."TABLE"` (null for Schedules created before targets were recorded). */
  target: string | null;
  strategy: SyncStrategy | null;
  method: TransferMethod | null;
  interval_seconds: number | null;
  cron: string | null;
  paused: boolean;
  /** ISO times of the next runs. */
  next_runs: string[];
  /** Job ids of recent runs. */
  recent_jobs: string[];
}

/** A Schedule from a listing, read from its memo (database, schema, table, target, strategy, method, interval or cron). */
export function scheduleFromSummary(s: ScheduleSummary): TableSyncSchedule {
  const memo = (s.memo ?? {}) as Record<string, unknown>;
  const str = (k: string): string | null => (typeof memo[k] === 'string' ? (memo[k] as string) : null);
  const database = str('database');
  const schema = str('schema');
  const table = str('table');
  return {
    schedule_id: s.scheduleId,
    table: database && schema && table ? qualifiedTableName({ database, schema, table }) : null,
    database_name: database,
    schema_name: schema,
    table_name: table,
    target: str('target'),
    strategy: str('strategy') as SyncStrategy | null,
    method: str('method') as TransferMethod | null,
    interval_seconds: typeof memo.intervalSeconds === 'number' ? memo.intervalSeconds : null,
    cron: str('cron'),
    paused: s.state.paused,
    next_runs: s.info.nextActionTimes.map((d) => d.toISOString()),
    recent_jobs: s.info.recentActions.map((a) => a.action.workflow.workflowId),
  };
}
