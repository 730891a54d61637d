/**
 * Execution upload: names, inputs and results shared by the workflows, their activities, the client,
 * the API and the bench. Types and constants only — workflows import this file at run time, so it must
 * stay free of I/O and Node built-ins.
 *
 * A PostgreSQL trigger queues each completed execution (`snowflake_sync_queue`). A Temporal Schedule
 * (id {@link EXECUTION_UPLOAD_SCHEDULE_ID} unless configured, every 30 s, overlap skip) starts `executionUploadDrain`, which
 * claims pending items (`FOR UPDATE SKIP LOCKED`) and uploads each execution to its user's Snowflake
 * itself, at most `maxConcurrent` (5) at once (drains started before that ran an `executionUpload`
 * child per item, workflow id {@link executionUploadWorkflowId}). Only ids cross Temporal: no rows, no
 * credentials.
 */
import { HEARTBEAT_TIMEOUT_SECONDS } from '../../errors.js';

/** Default id of the drain Schedule (one per floe deployment in a namespace; EXECUTION_UPLOAD_SCHEDULE_ID). */
export const EXECUTION_UPLOAD_SCHEDULE_ID = 'execution-upload-drain';
/** Workflow id prefix of scheduled drains (Temporal appends the scheduled time). */
export const EXECUTION_UPLOAD_DRAIN_WORKFLOW_ID = 'execution-upload-drain';
/** `FloeTable` of a drain; a child's is {@link executionSubject}. */
export const DRAIN_SUBJECT = 'drain';

/** Workflow id of the child for one queue item: stable, so one item never uploads twice at once. */
export function executionUploadWorkflowId(syncId: string): string {
  return `executionUpload-${syncId}`;
}

/** `FloeTable` of the child that uploads `executionId`. */
export function executionSubject(executionId: string): string {
  return `execution:${executionId}`;
}

/** Defaults: a drain every 30 s, 5 uploads at a time; the retry budget (3) is the item's `max_retries`. */
export const EXECUTION_UPLOAD_DEFAULTS = {
  intervalSeconds: 30,
  maxConcurrent: 5,
  /** `auto` loads by array binds up to this many rows, by file + PUT + COPY above. */
  bindMaxRows: 10_000,
  /** Rows per array-bind INSERT request. */
  bindChunkRows: 5_000,
  /** Seconds without a heartbeat before a dead worker's upload attempt is retried elsewhere. */
  heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS,
  /** First retry delay; doubles per retry up to retryMaxSeconds. */
  retryInitialSeconds: 10,
  retryMaxSeconds: 300,
  /** A claimed item whose lease ran out (drain terminated) is claimed again. */
  leaseSeconds: 900,
  /** Items one drain run handles before continuing as new. */
  itemsPerRun: 500,
  /**
   * First attempts of up to this many items run in sequence in one activity (one lane of the drain).
   * Drains started before 10 was the default use 5 (src/workflows/executionUpload.ts `BIGGER_BATCHES`).
   */
  batchSize: 10,
} as const;

/** How rows reach Snowflake. */
export type LoadMethod = 'binds' | 'file';
export type LoadMethodChoice = 'auto' | LoadMethod;

/** Tuning of one upload (no secrets; all optional, defaults {@link EXECUTION_UPLOAD_DEFAULTS}). */
export interface ExecutionUploadOptions {
  loadMethod?: LoadMethodChoice;
  bindMaxRows?: number;
  bindChunkRows?: number;
  heartbeatTimeoutSeconds?: number;
  retryInitialSeconds?: number;
  retryMaxSeconds?: number;
  leaseSeconds?: number;
}

/** Input of the `executionUploadDrain` workflow (also the Schedule's action argument). */
export interface ExecutionUploadDrainInput {
  /** Children running at once (default 5). */
  maxConcurrent?: number;
  /** Items per run before continue-as-new (default 500; Temporal's suggestion also triggers it). */
  itemsPerRun?: number;
  /** Items whose first attempts one upload activity runs in sequence (default 5; 1 = one item per activity). */
  batchSize?: number;
  upload?: ExecutionUploadOptions;
  /** Task queue of the activities and children (default: the drain's own). */
  taskQueue?: string;
  /** Set by continue-as-new: totals so far. */
  carry?: ExecutionUploadDrainResult;
}

/** Totals of a drain (over all its continue-as-new runs). */
export interface ExecutionUploadDrainResult {
  claimed: number;
  completed: number;
  failed: number;
  skipped: number;
  /** Claimed items whose child was already running (a previous drain's); left to it. */
  alreadyRunning: number;
  rows: number;
  /** Runs of this drain (1 + continue-as-new count). */
  runs: number;
}

/** Input of one `executionUpload` child: the claimed item (ids and retry budget, as the claim returned it). */
export interface ExecutionUploadInput {
  /** snowflake_sync_queue.id */
  syncId: string;
  /** Absent only in children started before floe passed the claimed item (they read it themselves). */
  executionId?: string;
  /** The item's `max_retries`: attempts after the first. Absent as `executionId` is. */
  maxRetries?: number;
  upload?: ExecutionUploadOptions;
  taskQueue?: string;
}

/**
 * One upload attempt as the workflow counts it: the result, or the failure's innermost message and
 * whether a retry cannot fix it (src/errors.ts `rootCause`); `seconds` it took.
 */
export type ExecutionUploadAttemptOutcome =
  | { result: ExecutionUploadResult; seconds: number }
  | { error: { message: string; nonRetryable: boolean }; seconds: number };

/** Final state of one item after its child. */
export type ExecutionUploadOutcome = 'completed' | 'skipped' | 'failed';

/** Result of an `executionUpload` child (and of the upload activity when it succeeds). */
export interface ExecutionUploadResult {
  syncId: string;
  executionId: string;
  status: ExecutionUploadOutcome;
  /** Fully qualified Snowflake table (`DB.SCHEMA.TABLE`), when uploaded. */
  table?: string;
  rows: number;
  method?: LoadMethod;
  /** Upload attempts made by this child. */
  attempts: number;
  /** Why it was skipped or failed. */
  reason?: string;
}
