/**
 * Temporal client of the execution upload: the drain Schedule (create or update, trigger now, delete,
 * through the one Schedules helper src/client/schedules.ts) and running a drain directly (tests, bench,
 * manual catch-up). Inputs carry only tuning numbers — no ids of users, no credentials.
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { jobStatusAttributes } from '../jobs/common.js';
import {
  DRAIN_SUBJECT,
  EXECUTION_UPLOAD_DEFAULTS,
  EXECUTION_UPLOAD_DRAIN_WORKFLOW_ID,
  EXECUTION_UPLOAD_SCHEDULE_ID,
  type ExecutionUploadDrainInput,
  type ExecutionUploadDrainResult,
} from '../jobs/execution-upload/contract.js';
import { executionUploadDrain } from '../workflows/executionUpload.js';
import { deleteSchedule, triggerSchedule, upsertSchedule } from './schedules.js';

/** A drain's search attributes when it starts (the workflow updates status and rows as it goes). */
const drainAttributes = () => jobStatusAttributes('execution-upload', { subject: DRAIN_SUBJECT, status: 'pending' });

/** Options of {@link ensureExecutionUploadSchedule}. */
export interface ExecutionUploadScheduleOptions {
  taskQueue: string;
  /** Seconds between drains (default 30). */
  intervalSeconds?: number;
  /** Drain input (maxConcurrent, upload tuning). */
  input?: ExecutionUploadDrainInput;
  /** Schedule id (default {@link EXECUTION_UPLOAD_SCHEDULE_ID}; workers pass the configured one). */
  scheduleId?: string;
}

/**
 * Create the drain Schedule, or update it when it exists (interval, input, task queue). Overlap
 * policy SKIP: a drain never starts while the previous one runs, so at most `maxConcurrent` uploads
 * run at once.
 * @returns the Schedule id.
 * @throws Temporal client errors (server unreachable).
 */
export async function ensureExecutionUploadSchedule(
  client: Client,
  opts: ExecutionUploadScheduleOptions,
): Promise<string> {
  const scheduleId = opts.scheduleId ?? EXECUTION_UPLOAD_SCHEDULE_ID;
  await upsertSchedule(client, {
    scheduleId,
    kind: 'execution-upload',
    every: `${opts.intervalSeconds ?? EXECUTION_UPLOAD_DEFAULTS.intervalSeconds}s`,
    action: {
      workflowType: executionUploadDrain,
      workflowId: scheduleId === EXECUTION_UPLOAD_SCHEDULE_ID ? EXECUTION_UPLOAD_DRAIN_WORKFLOW_ID : scheduleId,
      taskQueue: opts.taskQueue,
      args: [opts.input ?? {}],
      typedSearchAttributes: drainAttributes(),
    },
  });
  return scheduleId;
}

/**
 * Ask the Schedule to start a drain now. When one is running, one more drain is buffered to start after
 * it (overlap BUFFER_ONE: Temporal keeps at most one buffered, so drains never overlap and the
 * concurrency bound holds): work queued while the running drain was finding the queue empty is not left
 * to the next tick.
 * @returns false when the Schedule does not exist.
 */
export async function triggerExecutionUploadDrain(
  client: Client,
  scheduleId: string = EXECUTION_UPLOAD_SCHEDULE_ID,
): Promise<boolean> {
  return triggerSchedule(client, scheduleId, ScheduleOverlapPolicy.BUFFER_ONE);
}

/**
 * Delete the drain Schedule. Running drains finish.
 * @returns false when it did not exist.
 */
export async function deleteExecutionUploadSchedule(
  client: Client,
  scheduleId: string = EXECUTION_UPLOAD_SCHEDULE_ID,
): Promise<boolean> {
  return deleteSchedule(client, scheduleId);
}

/** Run one drain to completion outside the Schedule (tests, bench, manual catch-up). */
export async function runExecutionUploadDrain(
  client: Client,
  opts: { taskQueue: string; workflowId: string; input?: ExecutionUploadDrainInput },
): Promise<ExecutionUploadDrainResult> {
  return client.workflow.execute(executionUploadDrain, {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId,
    args: [opts.input ?? {}],
    typedSearchAttributes: drainAttributes(),
  });
}
