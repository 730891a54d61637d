/**
 * Temporal client of the table sync (Snowflake → DuckDB), used by the API, the demo and the tests:
 * start, describe, list and cancel runs, and manage their Schedules (through src/client/schedules.ts).
 *
 * The job log is Temporal: workflow id = job id; the job's kind, table, target, strategy, status and
 * row count are search attributes (src/jobs/common.ts), so both these helpers and
 * `temporal workflow list --query "FloeTable='DB.SCHEMA.T'"` find jobs.
 *
 * Every operation handles Temporal's "already running" / "not found" outcomes explicitly and throws
 * the typed errors of src/jobs/table-sync/errors.ts, which the API maps to 404/409. Other errors
 * (server unreachable, ...) propagate unchanged. No secrets pass through here: inputs carry ids and
 * names only.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { taskQueues } from '../jobs/common.js';
import {
  TABLE_SYNC_JOB_KIND,
  TABLE_SYNC_WORKFLOW,
  type TableSyncInput,
  type TableSyncProgress,
} from '../jobs/table-sync/contract.js';
import {
  JobAlreadyRunningError,
  JobNotFoundError,
  JobNotRunningError,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
} from '../jobs/table-sync/errors.js';
import {
  heartbeatOf,
  jobProgress,
  jobFromInfo,
  jobStatusOf,
  scheduleFromSummary,
  type ScheduleWhen,
  type TableSyncJob,
  type TableSyncSchedule,
} from '../jobs/table-sync/job-view.js';
import {
  listJobsQuery,
  memoFor,
  qualifiedTableName,
  runningJobQuery,
  startAttributes,
  tableSyncJobId,
  tableSyncScheduleId,
  type JobFilter,
} from '../jobs/table-sync/names.js';
import { rootCause } from '../errors.js';
import { progressQuery, tableSync } from '../workflows/tableSync.js';
import { deleteSchedule, describeSchedule, scheduleJobKind, upsertSchedule } from './schedules.js';

/** Options shared by the start/schedule helpers. */
export interface TableSyncStartOptions {
  /**
   * Task queue prefix (config `temporal.taskQueue`): the workflow runs on its table sync queue, the
   * DuckDB writes on the owner's queue (src/jobs/common.ts).
   */
  taskQueue: string;
  /** Job id to use instead of {@link tableSyncJobId} (tests, replays). */
  jobId?: string;
  /** Skip the "one running sync per table" check (the caller already holds the table's lock). */
  allowConcurrent?: boolean;
}

/**
 * Find a running table sync job of this source table or of this DuckDB target (API- or
 * Schedule-started), or null. Uses Temporal visibility, which the dev server updates synchronously;
 * on a production cluster it may lag by a second, so callers that must be strict also serialize
 * starts (the API holds a PostgreSQL advisory lock per target around check + start).
 */
export async function findRunningJob(
  client: Client,
  t: { database: string; schema: string; table: string },
  target?: { schema: string; table: string },
): Promise<string | null> {
  for await (const wf of client.workflow.list({ query: runningJobQuery(t, target), pageSize: 1 })) {
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
    const handle = await client.workflow.start(tableSync, {
      taskQueue: taskQueues(opts.taskQueue).tableSync,
      workflowId: jobId,
      args: [routed(input, opts.taskQueue)],
      typedSearchAttributes: startAttributes(input, 'pending'),
      memo: memoFor(input),
      workflowIdConflictPolicy: 'FAIL',
    });
    return { jobId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new JobAlreadyRunningError(table, jobId);
    throw err;
  }
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
 * Describe one table sync job: status, times, and — by state — its result (`stats`), its failure
 * message and type (`error`, `error_type`: the innermost cause), or its progress (`progress` query,
 * bounded by `progressTimeoutMs`; null when no worker answers). Throws {@link JobNotFoundError} when
 * no workflow has this id or it is not a tableSync.
 */
export async function getJob(client: Client, jobId: string, opts: GetJobOptions = {}): Promise<TableSyncJob> {
  const desc = await describeJob(client, jobId);
  const job = jobFromInfo(desc);
  const runHandle = client.workflow.getHandle<typeof tableSync>(jobId, desc.runId);
  if (desc.status.name === 'COMPLETED') {
    job.stats = await runHandle.result();
    job.rows ??= job.stats?.rowsInTarget ?? null;
  } else if (desc.status.name === 'RUNNING') {
    const timeout = opts.progressTimeoutMs ?? 2000;
    try {
      const progress: TableSyncProgress = await client.withDeadline(Date.now() + timeout, () =>
        runHandle.query(progressQuery),
      );
      job.progress = jobProgress(progress, heartbeatOf(desc));
    } catch {
      job.progress = null; // no worker polling, or the query is not (yet) defined: not an error of this request
    }
  } else {
    try {
      await runHandle.result();
    } catch (err) {
      // WorkflowFailedError → its cause is the workflow's failure (ApplicationFailure, CancelledFailure, TerminatedFailure).
      const f = rootCause(err instanceof WorkflowFailedError ? (err.cause ?? err) : err);
      job.error = f.message;
      job.error_type = f.type;
    }
  }
  return job;
}

/**
 * List table sync jobs, newest first, from Temporal visibility (search attributes FloeJobKind,
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

/** Whether a Schedule starts table syncs (by its memo, or by its action's workflow type). */
function isTableSyncSchedule(s: { memo?: Record<string, unknown>; action?: unknown }): boolean {
  const action = s.action as { workflowType?: unknown } | undefined;
  return scheduleJobKind(s) === TABLE_SYNC_JOB_KIND || action?.workflowType === TABLE_SYNC_WORKFLOW;
}

/**
 * Create a Temporal Schedule that starts a tableSync of this table (overlap policy SKIP: a run is
 * skipped while the previous one runs). One Schedule per table: id {@link tableSyncScheduleId}.
 * Scheduled jobs get workflow ids `<schedule id>-<timestamp>` from Temporal and the same search
 * attributes as API-started ones. Throws {@link ScheduleAlreadyExistsError}; a cron Temporal cannot
 * parse fails with its INVALID_ARGUMENT error (gRPC code 3).
 */
export async function createTableSyncSchedule(
  client: Client,
  input: TableSyncInput,
  when: ScheduleWhen,
  opts: { taskQueue: string; scheduleId?: string },
): Promise<{ scheduleId: string }> {
  const scheduleId = opts.scheduleId ?? tableSyncScheduleId(input);
  if (await describeSchedule(client, scheduleId)) throw new ScheduleAlreadyExistsError(scheduleId);
  const change = await upsertSchedule(client, {
    scheduleId,
    kind: 'table-sync',
    ...(when.cron !== undefined ? { spec: { cronExpressions: [when.cron] } } : { every: `${when.intervalSeconds}s` }),
    action: {
      workflowType: tableSync,
      workflowId: scheduleId,
      taskQueue: taskQueues(opts.taskQueue).tableSync,
      args: [routed(input, opts.taskQueue)],
      typedSearchAttributes: startAttributes(input, 'pending'),
      memo: memoFor(input),
    },
    memo: { ...memoFor(input), intervalSeconds: when.intervalSeconds ?? null, cron: when.cron ?? null },
  });
  // Created by a concurrent request between the check and the create.
  if (change !== 'created') throw new ScheduleAlreadyExistsError(scheduleId);
  return { scheduleId };
}

/** List table sync Schedules, ordered by id. Eventually consistent. */
export async function listTableSyncSchedules(client: Client): Promise<TableSyncSchedule[]> {
  const out: TableSyncSchedule[] = [];
  for await (const s of client.schedule.list()) {
    if (isTableSyncSchedule(s)) out.push(scheduleFromSummary(s));
  }
  out.sort((a, b) => a.schedule_id.localeCompare(b.schedule_id));
  return out;
}

/** Delete a table sync Schedule (running jobs it started keep running). Throws {@link ScheduleNotFoundError}. */
export async function deleteTableSyncSchedule(client: Client, scheduleId: string): Promise<void> {
  const desc = await describeSchedule(client, scheduleId);
  if (!desc || !isTableSyncSchedule(desc) || !(await deleteSchedule(client, scheduleId)))
    throw new ScheduleNotFoundError(scheduleId);
}

export type { JobFilter, JobStatus } from '../jobs/table-sync/names.js';
export type { ScheduleWhen, TableSyncJob, TableSyncSchedule } from '../jobs/table-sync/job-view.js';
