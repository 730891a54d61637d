/**
 * Execution upload workflows. Deterministic: only `@temporalio/workflow`, `@temporalio/common`, types
 * and pure modules.
 *
 * - `executionUploadDrain` (started by the Schedule every 30 s, overlap skip, so one drain at a time):
 *   claims pending items (`FOR UPDATE SKIP LOCKED`, a round of lanes ahead) and uploads at most
 *   `maxConcurrent` (5) at once, in lanes: a lane takes up to `batchSize` (10) claimed items, runs their
 *   first attempts one after another in one activity and then each item's retries (see
 *   {@link uploadItem}); claims again as lanes finish until the queue is empty; continues-as-new
 *   after `itemsPerRun` items or when Temporal suggests it (the history would grow past Temporal's
 *   limits otherwise), carrying its totals. A claimed item is the drain's alone: its lease
 *   (`FOR UPDATE SKIP LOCKED`, 15 minutes) keeps every other drain from claiming it meanwhile.
 * - `executionUpload` (workflow id `executionUpload-<sync id>`): one item as a workflow of its own, as
 *   drains started before {@link INLINE_UPLOADS} ran each item; the same {@link uploadItem}.
 *
 * One upload ({@link uploadItem}): up to 1 + `max_retries` attempts of the upload activity, with
 * exponential backoff (durable timers) between them; each failed attempt is recorded on the item
 * (retry_count, error_message); a non-retryable failure (src/errors.ts) or the last attempt's failure
 * marks the item failed. A dead worker's attempt ends by heartbeat timeout and counts as a failed attempt
 * (in a batch: for the item whose attempt was under way; the batch's other unfinished items were not
 * attempted and are not counted).
 *
 * Only ids and counts cross Temporal. Search attributes: FloeJobKind=execution_upload,
 * FloeTable=`drain` (or `execution:<execution_id>` on an `executionUpload` workflow), FloeStatus, FloeRows.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExecutionUploadActivities } from '../activities/execution-upload/index.js';
import type { ClaimedItem } from '../jobs/execution-upload/queue.js';
import type { JobMetricsSinks } from './jobMetricsInterceptor.js';
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
  type ExecutionUploadAttemptOutcome,
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

/**
 * Versioned change (Temporal `patched()`): the drain uploads each claimed item itself, its attempts
 * being activities of the drain, instead of starting an `executionUpload` child per item. A child
 * cost three more workflow tasks and a child start and completion per item, about as long as the
 * upload itself on the emulator (measured: ~300 ms of 600 ms). Drains that started before it replay
 * the child branch. Once none can still run, replace `patched` with `deprecatePatch` and remove that
 * branch; `executionUpload` stays only while such children can run.
 */
const INLINE_UPLOADS = 'execution-upload-inline';

/**
 * Versioned change (Temporal `patched()`): a lane of the drain runs the first attempts of up to
 * `batchSize` items in one `executionUploadBatch` activity, so one workflow task and one activity
 * dispatch serve several uploads (each cost about as much as half an upload's statements on the
 * emulator); retries stay one `executionUploadAttempt` each. Drains that started before it replay one
 * attempt activity per item. Once none can still run, replace `patched` with `deprecatePatch` and
 * remove that branch.
 */
const BATCHED_UPLOADS = 'execution-upload-batches';

/**
 * Versioned change (Temporal `patched()`): a lane's batch holds up to 10 items by default
 * (`D.batchSize`) instead of 5, halving the workflow tasks and activity dispatches per upload (each
 * batch costs the worker a few milliseconds of CPU besides its uploads: the activation in the workflow
 * thread, the activity task, the core's round trips). Drains that started before it replay batches of
 * {@link BATCH_SIZE_BEFORE}. Once none can still run, replace `patched` with `deprecatePatch` and
 * remove that branch. An explicit `batchSize` input is used as given by both.
 */
const BIGGER_BATCHES = 'execution-upload-batches-10';

/** The default batch size of drains started before {@link BIGGER_BATCHES}. */
const BATCH_SIZE_BEFORE = 5;

/** Job metrics of uploads run by the drain (src/metrics/jobs.ts): counted as `executionUpload` runs. */
const { floeJobMetrics } = proxySinks<JobMetricsSinks>();

/**
 * Upload one claimed item (see the module comment) with the bookkeeping activities `book`; `status`
 * reports its progress (the `executionUpload` workflow's search attributes). `first`, when given, is
 * the outcome of its first attempt, made already (by a batch); the attempts after it are counted on.
 */
async function uploadItem(
  item: ClaimedItem,
  input: Pick<ExecutionUploadInput, 'upload' | 'taskQueue'>,
  book: Pick<ExecutionUploadActivities, 'executionUploadFail' | 'executionUploadRetryLater'>,
  status: (status: FloeJobStatus, rows?: number) => void,
  first?: ExecutionUploadAttemptOutcome,
): Promise<ExecutionUploadResult> {
  const o = { ...D, ...input.upload };
  const { executionUploadAttempt } = proxyActivities<ExecutionUploadActivities>(uploadActivity(input));
  const { syncId } = item;
  const maxRetries = Math.max(0, item.maxRetries);
  for (let attempt = 1; ; attempt++) {
    let cause: { message: string; nonRetryable: boolean };
    if (attempt === 1 && first) {
      if ('result' in first) {
        status('completed', first.result.rows);
        return { ...first.result, attempts: attempt };
      }
      cause = first.error;
    } else
      try {
        const r = await executionUploadAttempt({ syncId, options: input.upload, attempt });
        status('completed', r.rows);
        return { ...r, attempts: attempt };
      } catch (err) {
        cause = rootCause(err);
      }
    if (cause.nonRetryable || attempt > maxRetries) {
      await book.executionUploadFail({ syncId, message: cause.message, retries: attempt - 1 });
      status('failed', 0);
      return {
        syncId,
        executionId: item.executionId,
        status: 'failed',
        rows: 0,
        attempts: attempt,
        reason: cause.message,
      };
    }
    await book.executionUploadRetryLater({ syncId, failures: attempt, message: cause.message });
    const delay = Math.min(o.retryMaxSeconds, o.retryInitialSeconds * 2 ** (attempt - 1));
    await sleep(Math.max(1, Math.round(delay * 1000)));
  }
}

/**
 * Options of the upload activities (an attempt, a batch of first attempts): heartbeating, one Temporal
 * attempt each, since retries are counted by the workflow against each item's `max_retries`.
 */
function uploadActivity(input: Pick<ExecutionUploadInput, 'upload' | 'taskQueue'>) {
  const o = { ...D, ...input.upload };
  return longActivity('2h', o.heartbeatTimeoutSeconds, {
    retry: { maximumAttempts: 1 },
    ...(input.taskQueue ? { taskQueue: input.taskQueue } : {}),
  });
}

/** Upload one queue item to its user's Snowflake as a workflow of its own (see the module comment). */
export async function executionUpload(input: ExecutionUploadInput): Promise<ExecutionUploadResult> {
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
  return uploadItem({ ...item, syncId: input.syncId }, input, book, (status, rows) => setStatus(subject, status, rows));
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
  const inline = patched(INLINE_UPLOADS);
  const batched = inline && patched(BATCHED_UPLOADS);
  const batchMax = batched
    ? Math.max(1, input.batchSize ?? (patched(BIGGER_BATCHES) ? D.batchSize : BATCH_SIZE_BEFORE))
    : 1;
  const { executionUploadBatch } = proxyActivities<ExecutionUploadActivities>(uploadActivity(input));
  const running = new Map<string, Promise<void>>();
  const count = (r: ExecutionUploadResult) => {
    if (r.status === 'completed') {
      totals.completed++;
      totals.rows += r.rows;
    } else if (r.status === 'skipped') totals.skipped++;
    else totals.failed++;
  };
  /**
   * The first attempts of a lane's items, by one `executionUploadBatch` activity. When that activity is
   * lost (its worker died: heartbeat timeout), the items with an attempt begun since their claim count
   * that attempt as failed with its cause; the others (finished, or never started) get their first
   * attempt again, which returns a finished item's outcome without loading it again.
   */
  const firstAttempts = async (items: ClaimedItem[]): Promise<(ExecutionUploadAttemptOutcome | undefined)[]> => {
    try {
      return await executionUploadBatch({ syncIds: items.map((i) => i.syncId), options: input.upload });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const { message, nonRetryable } = rootCause(err);
      const under = new Set(
        await book.executionUploadAttempted({
          items: items.map((i) => ({ syncId: i.syncId, attempts: i.attempts ?? 0 })),
        }),
      );
      return items.map((i) => (under.has(i.syncId) ? { error: { message, nonRetryable }, seconds: 0 } : undefined));
    }
  };
  /**
   * One lane: its items by the drain itself, one after another (first attempts in one batch when
   * batched), each counted in the job metrics as an `executionUpload` run would be.
   */
  const uploadLane = async (items: ClaimedItem[]): Promise<void> => {
    const args = items.map((item) => ({ ...item, upload: input.upload, taskQueue: input.taskQueue }));
    const t0 = Date.now();
    for (const a of args) floeJobMetrics.itemStarted('executionUpload', a);
    let k = 0;
    try {
      const firsts = batched ? await firstAttempts(items) : [];
      for (; k < items.length; k++) {
        const first = firsts[k];
        const tk = Date.now();
        const r = await uploadItem(items[k]!, input, book, () => undefined, first);
        // An item's time: its first attempt in the batch, and its retries after it.
        const seconds = first ? first.seconds + (Date.now() - tk) / 1000 : (Date.now() - tk) / 1000;
        floeJobMetrics.itemEnded('executionUpload', args[k], 'returned', seconds, r);
        count(r);
      }
    } catch (err) {
      const end = isCancellation(err) ? 'cancelled' : 'failed';
      for (; k < items.length; k++) {
        floeJobMetrics.itemEnded('executionUpload', args[k], end, (Date.now() - t0) / 1000);
        totals.failed++;
      }
    }
  };
  /** One item by an `executionUpload` child (drains started before {@link INLINE_UPLOADS}). */
  const uploadByChild = async (item: ClaimedItem): Promise<void> => {
    try {
      const child = await startChild(executionUpload, {
        workflowId: executionUploadWorkflowId(item.syncId),
        args: [{ ...item, upload: input.upload, taskQueue: input.taskQueue }],
        ...(input.taskQueue ? { taskQueue: input.taskQueue } : {}),
      });
      count(await child.result());
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) totals.alreadyRunning++;
      else totals.failed++;
    }
  };
  /** Start a lane for `items` (one, unless batched). */
  const launch = (items: ClaimedItem[]): void => {
    const key = items[0]!.syncId;
    const p = (inline ? uploadLane(items) : uploadByChild(items[0]!)).finally(() => running.delete(key));
    running.set(key, p);
  };
  /**
   * Free lanes take the items ahead, `batchMax` each; once a claim found fewer items than it asked for
   * (the end of the queue), no more than a share of them over all lanes, so the lanes that free up next
   * get items too rather than one lane all.
   */
  const fill = () => {
    while (running.size < max && ahead.length > 0)
      launch(ahead.splice(0, queueEnd ? Math.min(batchMax, Math.ceil(ahead.length / max)) : batchMax));
  };

  // Claimed items not started yet. A drain that uploads inline claims a round of lanes ahead of its
  // free ones (`max` items, `max` batches when batched): a claim (a local activity) holds the workflow
  // task, and so the start of the next upload, until it returns, so it claims once per round rather
  // than once per finished lane. They wait seconds, well inside their lease.
  const ahead: ClaimedItem[] = [];
  const claimAhead = inline ? max * batchMax : 0;
  let handled = 0;
  let queueEmpty = false;
  let queueEnd = false;
  let budgetSpent: boolean;
  for (;;) {
    budgetSpent = handled >= perRun || workflowInfo().continueAsNewSuggested;
    fill();
    if (!budgetSpent && !queueEmpty && running.size < max) {
      const free = max - running.size;
      // Claiming ahead stays within the run's budget (children were claimed for free slots only).
      const limit = inline ? Math.min(free * batchMax + claimAhead, perRun - handled) : free;
      const items = await book.executionUploadClaim({
        limit,
        claimer: info.workflowId,
        leaseSeconds: input.upload?.leaseSeconds,
      });
      totals.claimed += items.length;
      handled += items.length;
      ahead.push(...items);
      queueEnd = items.length < limit;
      fill();
      if (items.length === 0) queueEmpty = true;
    }
    if (running.size === 0) {
      // Nothing runs, so nothing is left ahead either (free slots take the items ahead first).
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
