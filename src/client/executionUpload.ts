/**
 * Temporal client helpers of the execution upload (seed 004): the drain Schedule (create or update,
 * trigger now, delete) and running a drain directly (tests, bench, manual runs). Inputs carry only
 * tuning numbers — no ids of users, no credentials.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import {
  EXECUTION_UPLOAD_DEFAULTS,
  EXECUTION_UPLOAD_DRAIN_WORKFLOW,
  EXECUTION_UPLOAD_DRAIN_WORKFLOW_ID,
  EXECUTION_UPLOAD_JOB_KIND,
  EXECUTION_UPLOAD_SCHEDULE_ID,
  type ExecutionUploadDrainInput,
  type ExecutionUploadDrainResult,
} from '../jobs/executionUpload.js';
import { SA } from '../jobs/common.js';

/** Options of {@link ensureExecutionUploadSchedule}. */
export interface ExecutionUploadScheduleOptions {
  taskQueue: string;
  /** Seconds between drains (default 30). */
  intervalSeconds?: number;
  /** Drain input (maxConcurrent, upload tuning). */
  input?: ExecutionUploadDrainInput;
  /** Schedule id (default {@link EXECUTION_UPLOAD_SCHEDULE_ID}; tests use their own). */
  scheduleId?: string;
}

/**
 * Create the drain Schedule, or update it when it exists (interval, input, task queue). Overlap
 * policy SKIP: a drain never starts while the previous one runs, so at most `maxConcurrent` uploads
 * run at once. Returns the schedule id.
 */
export async function ensureExecutionUploadSchedule(
  client: Client,
  opts: ExecutionUploadScheduleOptions,
): Promise<string> {
  const scheduleId = opts.scheduleId ?? EXECUTION_UPLOAD_SCHEDULE_ID;
  const every = `${opts.intervalSeconds ?? EXECUTION_UPLOAD_DEFAULTS.intervalSeconds}s`;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: EXECUTION_UPLOAD_DRAIN_WORKFLOW,
    workflowId: scheduleId === EXECUTION_UPLOAD_SCHEDULE_ID ? EXECUTION_UPLOAD_DRAIN_WORKFLOW_ID : scheduleId,
    taskQueue: opts.taskQueue,
    args: [opts.input ?? {}],
    typedSearchAttributes: [
      { key: SA.jobKind, value: EXECUTION_UPLOAD_JOB_KIND },
      { key: SA.table, value: 'drain' },
    ],
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
      memo: { jobKind: EXECUTION_UPLOAD_JOB_KIND },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({
      ...prev,
      spec: { intervals: [{ every }] },
      action,
      policies: { ...prev.policies, overlap: ScheduleOverlapPolicy.SKIP },
    }));
  }
  return scheduleId;
}

/**
 * Ask the Schedule to start a drain now (skipped by the overlap policy when one is running — that
 * one claims again as its uploads finish). Returns false when the schedule does not exist.
 */
export async function triggerExecutionUploadDrain(
  client: Client,
  scheduleId: string = EXECUTION_UPLOAD_SCHEDULE_ID,
): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Delete the drain Schedule; false when it did not exist. Running drains finish. */
export async function deleteExecutionUploadSchedule(
  client: Client,
  scheduleId: string = EXECUTION_UPLOAD_SCHEDULE_ID,
): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Run one drain to completion outside the Schedule (tests, bench, manual catch-up). */
export async function runExecutionUploadDrain(
  client: Client,
  opts: { taskQueue: string; workflowId: string; input?: ExecutionUploadDrainInput },
): Promise<ExecutionUploadDrainResult> {
  return client.workflow.execute(EXECUTION_UPLOAD_DRAIN_WORKFLOW, {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId,
    args: [opts.input ?? {}],
    typedSearchAttributes: [
      { key: SA.jobKind, value: EXECUTION_UPLOAD_JOB_KIND },
      { key: SA.table, value: 'drain' },
    ],
  }) as Promise<ExecutionUploadDrainResult>;
}
