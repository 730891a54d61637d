/**
 * Typed Temporal client helpers for the table-sync job (Snowflake → DuckDB, seeds 000/001), used by
 * the API, the demo and the tests.
 *
 * The job log is Temporal: workflow id = job id; the job's kind, table, strategy, status
 * and row count are search attributes (names in src/jobs/tableSync.ts), so both these helpers and
 * `temporal workflow list --query "FloeTable='DB.SCHEMA.T'"` find jobs. The seeds' `sync_jobs` table
 * is not kept.
 *
 * Every operation handles Temporal's "already running" / "not found" outcomes explicitly and throws
 * the typed errors below ({@link JobNotFoundError}, {@link JobAlreadyRunningError},
 * {@link JobNotRunningError}, {@link ScheduleNotFoundError}, {@link ScheduleAlreadyExistsError});
 * the API maps them to 404/409. Other errors (server unreachable, ...) propagate unchanged.
 *
 * No secrets pass through here: inputs carry ids and names only.
 */
import { randomBytes } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError as TemporalScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type ScheduleSpec,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import {
  defaultPayloadConverter,
  type Payload,
  type SearchAttributePair,
  type TypedSearchAttributes,
} from '@temporalio/common';
import {
  TABLE_SYNC_JOB_KIND,
  TABLE_SYNC_PROGRESS_QUERY,
  TABLE_SYNC_WORKFLOW,
  type SyncStrategy,
  type TableSyncInput,
  type TableSyncProgress,
  type TableSyncResult,
  type TransferMethod,
} from '../jobs/tableSync.js';
import { SA, SEARCH_ATTRIBUTES } from '../jobs/common.js';
import { taskQueues } from '../jobs/common.js';
import { quoteDuckDbName } from '../sql/quote.js';

/** Name of the tableSync workflow's progress query (returns {@link TableSyncProgress}). */
export const PROGRESS_QUERY = TABLE_SYNC_PROGRESS_QUERY;

export { SA, TABLE_SYNC_JOB_KIND };

// ---------------------------------------------------------------------------------------------
// Errors

/** No table-sync job has this id. */
export class JobNotFoundError extends Error {
  constructor(readonly jobId: string) {
    super(`sync job '${jobId}' not found`);
    this.name = 'JobNotFoundError';
  }
}

/** A sync of the same table is already running (at most one per table). */
export class JobAlreadyRunningError extends Error {
  constructor(
    readonly table: string,
    readonly runningJobId: string,
  ) {
    super(`a sync of ${table} is already running: job '${runningJobId}'`);
    this.name = 'JobAlreadyRunningError';
  }
}

/** The job exists but has finished, so it cannot be cancelled. */
export class JobNotRunningError extends Error {
  constructor(
    readonly jobId: string,
    readonly status: JobStatus,
  ) {
    super(`sync job '${jobId}' is not running (status ${status})`);
    this.name = 'JobNotRunningError';
  }
}

/** No table-sync schedule has this id. */
export class ScheduleNotFoundError extends Error {
  constructor(readonly scheduleId: string) {
    super(`schedule '${scheduleId}' not found`);
    this.name = 'ScheduleNotFoundError';
  }
}

/** A schedule with this id (one per table) already exists. */
export class ScheduleAlreadyExistsError extends Error {
  constructor(readonly scheduleId: string) {
    super(`schedule '${scheduleId}' already exists; delete it first to change it`);
    this.name = 'ScheduleAlreadyExistsError';
  }
}

// ---------------------------------------------------------------------------------------------
// Names

/** `DB.SCHEMA.TABLE` as stored in the FloeTable search attribute (names as Snowflake stores them). */
export function qualifiedTableName(t: { database: string; schema: string; table: string }): string {
  return `${t.database}.${t.schema}.${t.table}`;
}

/** A DuckDB target as the FloeTarget search attribute and job listings show it: `"SCHEMA"."TABLE"`, quoted. */
export function targetKey(t: { schema: string; table: string }): string {
  return quoteDuckDbName(t.schema, t.table);
}

/** Characters kept in ids; anything else (quotes, spaces, slashes) becomes `_` so ids stay URL- and CLI-friendly. */
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_$]/g, '_');
}

/**
 * Job id for a run started now: `tableSync-<DB>.<SCHEMA>.<TABLE>-<yyyymmddHHMMss>-<4 hex>` (UTC).
 * Readable (names the table), sortable by start time, unique thanks to the random suffix.
 */
export function tableSyncJobId(t: { database: string; schema: string; table: string }, now: Date = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${TABLE_SYNC_WORKFLOW}-${idPart(t.database)}.${idPart(t.schema)}.${idPart(t.table)}-${ts}-${randomBytes(2).toString('hex')}`;
}

/** Schedule id of a table's sync schedule (one per table): `tableSync-<DB>.<SCHEMA>.<TABLE>`. */
export function tableSyncScheduleId(t: { database: string; schema: string; table: string }): string {
  return `${TABLE_SYNC_WORKFLOW}-${idPart(t.database)}.${idPart(t.schema)}.${idPart(t.table)}`;
}

/** Escape a value for a single-quoted string in a Temporal visibility query. */
function visibilityString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function searchAttributesFor(input: TableSyncInput, status: string): SearchAttributePair[] {
  return [
    { key: SA.jobKind, value: TABLE_SYNC_JOB_KIND },
    { key: SA.table, value: qualifiedTableName(input) },
    ...(input.target ? [{ key: SA.target, value: targetKey(input.target) }] : []),
    { key: SA.strategy, value: input.strategy },
    { key: SA.status, value: status },
  ];
}

function memoFor(input: TableSyncInput): Record<string, unknown> {
  return {
    tableId: input.tableId,
    database: input.database,
    schema: input.schema,
    table: input.table,
    ...(input.target ? { target: targetKey(input.target) } : {}),
    strategy: input.strategy,
    method: input.method,
  };
}

// ---------------------------------------------------------------------------------------------
// Start

/** Options shared by the start/schedule helpers. */
export interface TableSyncStartOptions {
  /**
   * Task queue prefix (config `temporal.taskQueue`): the workflow runs on its table-sync queue, the
   * DuckDB writes on the owner's queue (src/jobs/common.ts).
   */
  taskQueue: string;
  /** Job id to use instead of {@link tableSyncJobId} (tests, replays). */
  jobId?: string;
  /** Skip the "one running sync per table" check (the caller already holds the table's lock). */
  allowConcurrent?: boolean;
}

/**
 * Find a running table-sync job of this source table or of this DuckDB target (API- or
 * schedule-started), or null. Uses Temporal visibility, which the dev server updates synchronously;
 * on a production cluster it may lag by a second, so callers that must be strict also serialize
 * starts (the API holds a PostgreSQL advisory lock per target around check + start).
 */
export async function findRunningJob(
  client: Client,
  t: { database: string; schema: string; table: string },
  target?: { schema: string; table: string },
): Promise<string | null> {
  const same =
    `${SEARCH_ATTRIBUTES.table} = ${visibilityString(qualifiedTableName(t))}` +
    (target ? ` OR ${SEARCH_ATTRIBUTES.target} = ${visibilityString(targetKey(target))}` : '');
  const query = `${SEARCH_ATTRIBUTES.jobKind} = ${visibilityString(TABLE_SYNC_JOB_KIND)} AND (${same}) AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query, pageSize: 1 })) {
    return wf.workflowId;
  }
  return null;
}

/** `input` with its DuckDB writes routed to the owner's queue under `prefix`. */
function routed(input: TableSyncInput, prefix: string): TableSyncInput {
  return { ...input, transferTaskQueue: taskQueues(prefix).tableSyncTransfer };
}

/**
 * Start a tableSync workflow. Returns its job id (= workflow id).
 * Throws {@link JobAlreadyRunningError} when a sync of the same table or into the same target is
 * running (or the job id is taken). The input must not carry credentials.
 */
export async function startTableSync(
  client: Client,
  input: TableSyncInput,
  opts: TableSyncStartOptions,
): Promise<{ jobId: string; runId: string }> {
  const table = qualifiedTableName(input);
  if (!opts.allowConcurrent) {
    const running = await findRunningJob(client, input, input.target);
    if (running) throw new JobAlreadyRunningError(table, running);
  }
  const jobId = opts.jobId ?? tableSyncJobId(input);
  try {
    const handle = await client.workflow.start(TABLE_SYNC_WORKFLOW, {
      taskQueue: taskQueues(opts.taskQueue).tableSync,
      workflowId: jobId,
      args: [routed(input, opts.taskQueue)],
      typedSearchAttributes: searchAttributesFor(input, 'pending'),
      memo: memoFor(input),
      workflowIdConflictPolicy: 'FAIL',
    });
    return { jobId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if ((err as Error)?.name === 'WorkflowExecutionAlreadyStartedError') throw new JobAlreadyRunningError(table, jobId);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Inspect

/** Job status as the seeds name it. */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** One table-sync job as the API reports it. Times are ISO-8601 UTC strings. */
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
   * Progress of a running job (getJob only): the workflow's `progress` query, plus `transfer` — the
   * transfer activity's last heartbeat (`{phase, rowsLoaded, ...}`) when one is pending. Null if the
   * workflow did not answer (no worker polling yet).
   */
  progress: (TableSyncProgress & { transfer?: unknown }) | null;
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

/** Map Temporal's execution status (plus FloeStatus for pending vs running) to the seeds' job status. */
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

function jobFromInfo(info: Omit<WorkflowExecutionInfo, 'raw'>): TableSyncJob {
  const memo = (info.memo ?? {}) as Partial<
    Record<'database' | 'schema' | 'table' | 'target' | 'strategy' | 'method', string>
  >;
  const attrs = info.typedSearchAttributes;
  const floeStatus = sa<string>(attrs, SA.status);
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
    status: jobStatusOf(info.status.name, floeStatus),
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

/** Innermost failure message and the innermost failure type (ActivityFailure → ApplicationFailure ...). */
function failureOf(err: unknown): { message: string; type: string | null } {
  let e = err as { message?: string; cause?: unknown; type?: unknown } | undefined;
  let message = e?.message ?? String(err);
  let type: string | null = typeof e?.type === 'string' ? e.type : null;
  while (e && e.cause) {
    e = e.cause as { message?: string; cause?: unknown; type?: unknown };
    if (e?.message) message = e.message;
    if (typeof e?.type === 'string') type = e.type;
  }
  return { message, type };
}

/** The transfer activity's last heartbeat details, decoded (JSON payloads), or undefined. */
function heartbeatOf(desc: WorkflowExecutionDescription): unknown {
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

/** Options of {@link getJob}. */
export interface GetJobOptions {
  /** How long to wait for the `progress` query of a running job, ms (default 2000). */
  progressTimeoutMs?: number;
}

/** Temporal's description of a tableSync run; {@link JobNotFoundError} for an unknown id or another workflow type. */
async function describeJob(client: Client, jobId: string): Promise<WorkflowExecutionDescription> {
  let desc: WorkflowExecutionDescription;
  try {
    desc = await client.workflow.getHandle(jobId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
    throw err;
  }
  if (desc.type !== TABLE_SYNC_WORKFLOW) throw new JobNotFoundError(jobId);
  return desc;
}

/**
 * Describe one table-sync job: status, times, and — by state — its result (`stats`), its failure
 * message (`error`), or its progress (`progress` query, bounded by `progressTimeoutMs`; null when no
 * worker answers). Throws {@link JobNotFoundError} when no workflow has this id or it is not a tableSync.
 */
export async function getJob(client: Client, jobId: string, opts: GetJobOptions = {}): Promise<TableSyncJob> {
  const desc = await describeJob(client, jobId);
  const job = jobFromInfo(desc);
  const runHandle = client.workflow.getHandle(jobId, desc.runId);
  if (desc.status.name === 'COMPLETED') {
    job.stats = (await runHandle.result()) as TableSyncResult;
    job.rows ??= job.stats?.rowsInTarget ?? null;
  } else if (desc.status.name === 'RUNNING') {
    const timeout = opts.progressTimeoutMs ?? 2000;
    try {
      const progress = await client.withDeadline(Date.now() + timeout, () =>
        runHandle.query<TableSyncProgress>(PROGRESS_QUERY),
      );
      const transfer = heartbeatOf(desc);
      job.progress = transfer === undefined ? progress : { ...progress, transfer };
    } catch {
      job.progress = null; // no worker polling, or the query is not (yet) defined: not an error of this request
    }
  } else {
    try {
      await runHandle.result();
    } catch (err) {
      // WorkflowFailedError → its cause is the workflow's failure (ApplicationFailure, CancelledFailure, TerminatedFailure).
      const f = failureOf(err instanceof WorkflowFailedError ? (err.cause ?? err) : err);
      job.error = f.message;
      job.error_type = f.type;
    }
  }
  return job;
}

/** Filter of {@link listJobs}. */
export interface JobFilter {
  /** `DB.SCHEMA.TABLE`. */
  table?: string;
  status?: JobStatus;
  /** Max jobs returned (default 50). */
  limit?: number;
}

/** The visibility query {@link listJobs} sends (exported so it is pinned by a test). */
export function listJobsQuery(filter: JobFilter): string {
  const parts = [`${SEARCH_ATTRIBUTES.jobKind} = ${visibilityString(TABLE_SYNC_JOB_KIND)}`];
  if (filter.table) parts.push(`${SEARCH_ATTRIBUTES.table} = ${visibilityString(filter.table)}`);
  switch (filter.status) {
    case 'pending':
      parts.push(`ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.status} = 'pending'`);
      break;
    case 'running':
      parts.push(`ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.status} != 'pending'`);
      break;
    case 'completed':
      parts.push(`ExecutionStatus = 'Completed'`);
      break;
    case 'failed':
      parts.push(`(ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut')`);
      break;
    case 'cancelled':
      parts.push(`(ExecutionStatus = 'Canceled' OR ExecutionStatus = 'Terminated')`);
      break;
  }
  return parts.join(' AND ');
}

/**
 * List table-sync jobs, newest first, from Temporal visibility (search attributes FloeJobKind,
 * FloeTable, FloeStatus; ExecutionStatus for terminal states). `stats`, `error` and `progress` are
 * null in lists; use {@link getJob} for one job's details.
 */
export async function listJobs(client: Client, filter: JobFilter = {}): Promise<TableSyncJob[]> {
  const limit = filter.limit ?? 50;
  const jobs: TableSyncJob[] = [];
  for await (const wf of client.workflow.list({ query: listJobsQuery(filter), pageSize: Math.min(limit, 1000) })) {
    jobs.push(jobFromInfo(wf));
    if (jobs.length >= limit) break;
  }
  return jobs;
}

/**
 * Request cancellation of a running job (the workflow cleans up and ends as cancelled).
 * Throws {@link JobNotFoundError}, or {@link JobNotRunningError} when it already finished.
 */
export async function cancelJob(client: Client, jobId: string): Promise<void> {
  const desc = await describeJob(client, jobId);
  if (desc.status.name !== 'RUNNING') throw new JobNotRunningError(jobId, jobStatusOf(desc.status.name, undefined));
  try {
    await client.workflow.getHandle(jobId, desc.runId).cancel();
  } catch (err) {
    // It finished between describe and cancel.
    if (err instanceof WorkflowNotFoundError) throw new JobNotRunningError(jobId, 'completed');
    throw err;
  }
}

/**
 * Wait until the job finishes (any terminal state) and return {@link getJob}'s view of it.
 * Throws {@link JobNotFoundError}; throws an Error after `timeoutMs` (default 10 min).
 */
export async function waitForJob(
  client: Client,
  jobId: string,
  opts: { timeoutMs?: number } = {},
): Promise<TableSyncJob> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  const handle = client.workflow.getHandle(jobId);
  try {
    await client.withDeadline(deadline, () => handle.result());
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
    if (!(err instanceof WorkflowFailedError)) {
      if (Date.now() >= deadline)
        throw new Error(`timed out after ${opts.timeoutMs ?? 600_000} ms waiting for job '${jobId}'`, { cause: err });
      throw err;
    }
  }
  return getJob(client, jobId);
}

// ---------------------------------------------------------------------------------------------
// Schedules

/** When a schedule fires: every `intervalSeconds`, or by a cron expression (UTC). */
export type ScheduleWhen =
  { intervalSeconds: number; cron?: undefined } | { cron: string; intervalSeconds?: undefined };

/** A table-sync schedule as the API reports it. */
export interface TableSyncSchedule {
  schedule_id: string;
  table: string | null;
  database_name: string | null;
  schema_name: string | null;
  table_name: string | null;
  /** DuckDB target, `"SCHEMA"."TABLE"` (null for schedules created before targets were recorded). */
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

/**
 * Create a Temporal Schedule that starts a tableSync of this table (overlap policy SKIP: a run is
 * skipped while the previous one runs). One schedule per table: id {@link tableSyncScheduleId}.
 * Scheduled jobs get workflow ids `<schedule id>-<timestamp>` from Temporal and the same search
 * attributes as API-started ones. Throws {@link ScheduleAlreadyExistsError}.
 */
export async function createTableSyncSchedule(
  client: Client,
  input: TableSyncInput,
  when: ScheduleWhen,
  opts: { taskQueue: string; scheduleId?: string },
): Promise<{ scheduleId: string }> {
  const scheduleId = opts.scheduleId ?? tableSyncScheduleId(input);
  const spec: ScheduleSpec =
    when.cron !== undefined ? { cronExpressions: [when.cron] } : { intervals: [{ every: `${when.intervalSeconds}s` }] };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: TABLE_SYNC_WORKFLOW,
        workflowId: scheduleId,
        taskQueue: taskQueues(opts.taskQueue).tableSync,
        args: [routed(input, opts.taskQueue)],
        typedSearchAttributes: searchAttributesFor(input, 'pending'),
        memo: memoFor(input),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      memo: {
        ...memoFor(input),
        jobKind: TABLE_SYNC_JOB_KIND,
        intervalSeconds: when.intervalSeconds ?? null,
        cron: when.cron ?? null,
      },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new ScheduleAlreadyExistsError(scheduleId);
    throw err;
  }
  return { scheduleId };
}

/** List table-sync schedules (schedules whose action starts a tableSync). Eventually consistent. */
export async function listSchedules(client: Client): Promise<TableSyncSchedule[]> {
  const out: TableSyncSchedule[] = [];
  for await (const s of client.schedule.list()) {
    const memo = (s.memo ?? {}) as Record<string, unknown>;
    const isTableSync =
      memo.jobKind === TABLE_SYNC_JOB_KIND ||
      (s.action && 'workflowType' in s.action && s.action.workflowType === TABLE_SYNC_WORKFLOW);
    if (!isTableSync) continue;
    const str = (k: string): string | null => (typeof memo[k] === 'string' ? (memo[k] as string) : null);
    const database = str('database');
    const schema = str('schema');
    const table = str('table');
    out.push({
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
    });
  }
  out.sort((a, b) => a.schedule_id.localeCompare(b.schedule_id));
  return out;
}

/** Delete a schedule (running jobs it started keep running). Throws {@link ScheduleNotFoundError}. */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const desc = await handle.describe();
    const memo = (desc.memo ?? {}) as Record<string, unknown>;
    const isTableSync =
      memo.jobKind === TABLE_SYNC_JOB_KIND ||
      ('workflowType' in desc.action && desc.action.workflowType === TABLE_SYNC_WORKFLOW);
    if (!isTableSync) throw new ScheduleNotFoundError(scheduleId);
    await handle.delete();
  } catch (err) {
    if (err instanceof TemporalScheduleNotFoundError) throw new ScheduleNotFoundError(scheduleId);
    throw err;
  }
}
