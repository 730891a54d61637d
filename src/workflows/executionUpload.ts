/**
 * Execution upload workflows. Deterministic: only `@temporalio/workflow`, `@temporalio/common`, types
 * and pure modules.
 *
 * - `executionUploadDrain` (started by the Schedule every 30 s, overlap skip, so one drain at a time):
 *   claims pending items (`FOR UPDATE SKIP LOCKED`, as many as there are free slots) and runs at most
 *   `maxConcurrent` (5) `executionUpload` children at once; claims again as children finish until the
 *   queue is empty; continues-as-new after `itemsPerRun` items or when Temporal suggests it (the
 *   history would grow past Temporal's limits otherwise), carrying its totals.
 * - `executionUpload` (workflow id `executionUpload-<sync id>`, so one item never uploads twice at
 *   once; its input is the claimed item, ids and retry budget): up to 1 + `max_retries` attempts of the upload activity, with exponential backoff (durable
 *   timers) between them; each failed attempt is recorded on the item (retry_count, error_message);
 *   a non-retryable failure (src/errors.ts) or the last attempt's failure marks the item failed.
 *   A dead worker's attempt ends by heartbeat timeout and counts as a failed attempt.
 *
 * Only ids and counts cross Temporal. Search attributes: FloeJobKind=execution_upload,
 * FloeTable=`drain` | `execution:<execution_id>`, FloeStatus, FloeRows.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExecutionUploadActivities } from '../activities/execution-upload/index.js';
import { activityRetry, localActivity, longActivity, rootCause, shortActivity } from '../errors.js';
import { setJobStatus, type FloeJobStatus } from '../jobs/common.js';
import {
  DRAIN_SUBJECT,
  EXECUTION_UPLOAD_DEFAULTS as D,
  executionSubject,
  executionUploadWorkflowId,
  type ExecutionUploadDrainInput,
  type ExecutionUploadDrainResult,
  type ExecutionUploadInput,
  type ExecutionUploadResult,
} from '../jobs/execution-upload/contract.js';

const setStatus = (subject: string, status: FloeJobStatus, rows?: number) =>
  setJobStatus('execution-upload', { subject, status, rows });

/**
 * The queue bookkeeping activities (claim, record a failure): short PostgreSQL statements, retried by
 * floe's policy. Local activities: the worker running the workflow task runs them at once, so a claim
 * after a finished upload costs no round trip through the task queue (the drain's and its children's
 * queue has the same worker serving workflows and activities).
 */
const short = proxyLocalActivities<ExecutionUploadActivities>(localActivity({ retry: activityRetry(10) }));

/**
 * Versioned change (Temporal `patched()`): bookkeeping moved to local activities and the child's input
 * carries the claimed item. Drains that started before it replay the regular-activity claim; children
 * started by such a drain have no `executionId` in their input and replay the `executionUploadBegin`
 * read. Once no workflow that started before the change can still run, replace `patched` with
 * `deprecatePatch` and remove the old branches (and then `executionUploadBegin`).
 */
const LOCAL_BOOKKEEPING = 'execution-upload-local-bookkeeping';

/** The bookkeeping activities as regular activities on `taskQueue`: the branch before {@link LOCAL_BOOKKEEPING}. */
function queuedBookkeeping(taskQueue?: string) {
  return proxyActivities<ExecutionUploadActivities>(
    shortActivity({ retry: activityRetry(10), ...(taskQueue ? { taskQueue } : {}) }),
  );
}

/** Upload one queue item to its user's Snowflake (see the module comment). */
export async function executionUpload(input: ExecutionUploadInput): Promise<ExecutionUploadResult> {
  const o = { ...D, ...input.upload };
  const { executionUploadAttempt } = proxyActivities<ExecutionUploadActivities>(
    longActivity('2h', o.heartbeatTimeoutSeconds, {
      // Retries are counted by this workflow against the item's max_retries (one activity attempt each).
      retry: { maximumAttempts: 1 },
      ...(input.taskQueue ? { taskQueue: input.taskQueue } : {}),
    }),
  );
  // A child started before LOCAL_BOOKKEEPING reads its item itself (its input has no executionId).
  const claimed = input.executionId !== undefined && input.maxRetries !== undefined;
  const book = claimed ? short : queuedBookkeeping(input.taskQueue);
  let item = { executionId: input.executionId ?? '?', maxRetries: input.maxRetries ?? 0 };
  if (!claimed) {
    setStatus(executionSubject('?'), 'running');
    item = await book.executionUploadBegin({ syncId: input.syncId });
  }
  const subject = executionSubject(item.executionId);
  setStatus(subject, 'running');
  const maxRetries = Math.max(0, item.maxRetries);
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await executionUploadAttempt({ syncId: input.syncId, options: input.upload, attempt });
      setStatus(subject, 'completed', r.rows);
      return { ...r, attempts: attempt };
    } catch (err) {
      const cause = rootCause(err);
      if (cause.nonRetryable || attempt > maxRetries) {
        await book.executionUploadFail({ syncId: input.syncId, message: cause.message, retries: attempt - 1 });
        setStatus(subject, 'failed', 0);
        return {
          syncId: input.syncId,
          executionId: item.executionId,
          status: 'failed',
          rows: 0,
          attempts: attempt,
          reason: cause.message,
        };
      }
      await book.executionUploadRetryLater({ syncId: input.syncId, failures: attempt, message: cause.message });
      const delay = Math.min(o.retryMaxSeconds, o.retryInitialSeconds * 2 ** (attempt - 1));
      await sleep(Math.max(1, Math.round(delay * 1000)));
    }
  }
}

/** Drain the queue with at most `maxConcurrent` uploads at once (see the module comment). */
export async function executionUploadDrain(input: ExecutionUploadDrainInput = {}): Promise<ExecutionUploadDrainResult> {
  const info = workflowInfo();
  const max = Math.max(1, input.maxConcurrent ?? D.maxConcurrent);
  const perRun = Math.max(1, input.itemsPerRun ?? D.itemsPerRun);
  const totals: ExecutionUploadDrainResult = input.carry
    ? { ...input.carry, runs: input.carry.runs + 1 }
    : { claimed: 0, completed: 0, failed: 0, skipped: 0, alreadyRunning: 0, rows: 0, runs: 1 };
  setStatus(DRAIN_SUBJECT, 'running', totals.rows);

  const book = patched(LOCAL_BOOKKEEPING) ? short : queuedBookkeeping(input.taskQueue);
  const running = new Map<string, Promise<void>>();
  const launch = (item: Pick<ExecutionUploadInput, 'syncId' | 'executionId' | 'maxRetries'>): void => {
    const { syncId } = item;
    const p = (async () => {
      try {
        const child = await startChild(executionUpload, {
          workflowId: executionUploadWorkflowId(syncId),
          args: [{ ...item, upload: input.upload, taskQueue: input.taskQueue }],
          ...(input.taskQueue ? { taskQueue: input.taskQueue } : {}),
        });
        const r = await child.result();
        if (r.status === 'completed') {
          totals.completed++;
          totals.rows += r.rows;
        } else if (r.status === 'skipped') totals.skipped++;
        else totals.failed++;
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) totals.alreadyRunning++;
        else totals.failed++;
      } finally {
        running.delete(syncId);
      }
    })();
    running.set(syncId, p);
  };

  let handled = 0;
  let queueEmpty = false;
  let budgetSpent: boolean;
  for (;;) {
    budgetSpent = handled >= perRun || workflowInfo().continueAsNewSuggested;
    if (!budgetSpent && !queueEmpty && running.size < max) {
      const items = await book.executionUploadClaim({
        limit: max - running.size,
        claimer: info.workflowId,
        leaseSeconds: input.upload?.leaseSeconds,
      });
      totals.claimed += items.length;
      handled += items.length;
      for (const it of items) launch(it);
      if (items.length === 0) queueEmpty = true;
    }
    if (running.size === 0) {
      if (queueEmpty || budgetSpent) break;
      continue;
    }
    await Promise.race(running.values());
    queueEmpty = false; // a slot freed: look again (the trigger may have queued more meanwhile)
  }
  if (budgetSpent && !queueEmpty) {
    setStatus(DRAIN_SUBJECT, 'running', totals.rows);
    return continueAsNew<typeof executionUploadDrain>({ ...input, carry: totals });
  }
  setStatus(DRAIN_SUBJECT, totals.failed > 0 ? 'failed' : 'completed', totals.rows);
  return totals;
}
