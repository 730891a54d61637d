/**
 * The cache refresh workflows. Deterministic: only `@temporalio/workflow`, `@temporalio/common`'s
 * failure classes, types and pure modules.
 *
 * `cacheRefresh`: one smart refresh of one cache. Its workflow id is `cacheRefresh-<cache>`
 * (`cacheRefreshWorkflowId`), so Temporal serializes refreshes of one cache while different caches
 * refresh in parallel. Steps: the smart check, a local activity (TTL, then a hash of the monitored tables'
 * LAST_ALTERED, read BEFORE extraction; it records a skip itself) → SKIPPED; or mark the cache refreshing → unload and replace the cache's
 * table in one DuckLake transaction → record the pre-extraction hash, rows and snapshot → REFRESHED.
 * A failure records the error (the previous rows stay readable), removes the run's stage path and
 * local files, and returns `ERROR` naming the cache and the root cause, rather than failing the
 * workflow. A cancelled refresh cleans up the same way, then ends cancelled.
 *
 * `cacheRefreshScheduled` is what a cache's Temporal Schedule starts: it runs `cacheRefresh` as a
 * child under the cache's workflow id; when a refresh of that cache is already running it returns
 * SKIPPED.
 *
 * Search attributes: FloeJobKind=cache_refresh, FloeTable=<cache>, FloeStrategy=smart|force,
 * FloeStatus, FloeRows. FloeStatus stays as started (`pending`) while the check runs, becomes `running`
 * once the check decides to refresh, and `completed` (0 rows) for a skip.
 */
import {
  ApplicationFailure,
  CancellationScope,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CacheRefreshActivities } from '../activities/cache-refresh/index.js';
import { activityRetry, localActivity, longActivity, rootCause, shortActivity } from '../errors.js';
import {
  cacheRefreshWorkflowId,
  type CacheRefreshInput,
  type CacheRefreshResult,
} from '../jobs/cache-refresh/contract.js';
import { setJobStatus, type FloeJobStatus } from '../jobs/common.js';

const retry = activityRetry(3);

/** PostgreSQL state updates. */
const short = proxyActivities<CacheRefreshActivities>(shortActivity({ retry }));
/**
 * The smart check (a PostgreSQL read, one metadata query, the skip recorded): short, so a local
 * activity, run by the worker that runs the workflow task without a round trip through the task queue.
 */
const local = proxyLocalActivities<CacheRefreshActivities>(localActivity({ retry }));
/**
 * Versioned change (Temporal `patched()`): the check became one local activity that records a skip itself.
 * Once no refresh that started before it can still run, use `deprecatePatch` and drop the old branch
 * (and then `cacheRecordSkip`).
 */
const LOCAL_CHECK = 'cache-refresh-local-check';
/**
 * Versioned change (Temporal `patched()`): `FloeStatus=running` is upserted after the check, only when the
 * run goes on to refresh. A skip then completes its one workflow task with the patch marker, the check's
 * marker, one upsert (`completed`, 0 rows) and the result, instead of also upserting `running` first (which
 * reached Temporal in the same workflow task as `completed`, so no reader saw it, unless the check outlasted
 * a workflow task). This branch replaces {@link LOCAL_CHECK}'s for new runs; runs that started before it
 * replay through the older branches.
 */
const STATUS_AFTER_CHECK = 'cache-refresh-status-after-check';
/** Unload, download and the DuckLake transaction: long, so it heartbeats. */
const long = proxyActivities<CacheRefreshActivities>(longActivity('2h', undefined, { retry }));

/** One smart refresh of one cache. Never throws for a failed refresh: returns `result: 'ERROR'`. */
export async function cacheRefresh(input: CacheRefreshInput): Promise<CacheRefreshResult> {
  const { cacheName } = input;
  const jobId = `${workflowInfo().workflowId}/${workflowInfo().runId}`;
  const started = Date.now();
  const setStatus = (status: FloeJobStatus, rows?: number) =>
    setJobStatus('cache-refresh', { subject: cacheName, strategy: input.force ? 'force' : 'smart', status, rows });
  const result = (r: Omit<CacheRefreshResult, 'duration_ms'>): CacheRefreshResult => ({
    ...r,
    duration_ms: Date.now() - started,
  });
  let snapshotId: number | null = null;
  try {
    // Versioned changes, newest first: the status upserted after the check; before it, `running` upserted
    // first and then the local check; before that, a regular activity for the check and one to record a skip.
    const statusAfterCheck = patched(STATUS_AFTER_CHECK);
    if (!statusAfterCheck) setStatus('running');
    const localCheck = statusAfterCheck || patched(LOCAL_CHECK);
    const check = localCheck
      ? await local.cacheCheck({ cacheName, jobId, force: input.force })
      : await short.cacheCheck({ cacheName, force: input.force });
    snapshotId = check.snapshotId;
    if (!check.refresh) {
      if (!localCheck) await short.cacheRecordSkip({ cacheName, jobId });
      setStatus('completed', 0);
      return result({ result: 'SKIPPED', message: check.reason, rows_refreshed: 0, snapshot_id: snapshotId });
    }
    if (statusAfterCheck) setStatus('running');
    await short.cacheMarkRefreshing({ cacheName, jobId });
    const r = await long.cacheExtractLoad({ cacheName, jobId });
    await short.cacheRecordRefreshed({
      cacheName,
      jobId,
      stateHash: check.stateHash,
      lastAltered: check.lastAltered,
      rows: r.rows,
      snapshotId: r.snapshotId,
    });
    setStatus('completed', r.rows);
    return result({
      result: 'REFRESHED',
      message: `refreshed (${check.reason}): ${r.rows} rows, snapshot ${r.snapshotId}`,
      rows_refreshed: r.rows,
      snapshot_id: r.snapshotId,
    });
  } catch (err) {
    const cancelled = isCancellation(err);
    const message = cancelled
      ? `refresh of cache ${cacheName} was cancelled`
      : `refresh of cache ${cacheName} failed: ${rootCause(err).message}`;
    // Runs even when the workflow is cancelled; each step is best effort, so one failing does not skip the other.
    await CancellationScope.nonCancellable(async () => {
      await short.cacheCleanup({ cacheName, jobId }).catch(() => undefined);
      await short.cacheRecordError({ cacheName, jobId, message }).catch(() => undefined);
    });
    setStatus(cancelled ? 'cancelled' : 'failed');
    if (cancelled) throw err;
    return result({ result: 'ERROR', message, rows_refreshed: 0, snapshot_id: snapshotId });
  }
}

/** Started by a cache's Schedule: the smart refresh as a child under the cache's workflow id. */
export async function cacheRefreshScheduled(input: CacheRefreshInput): Promise<CacheRefreshResult> {
  const started = Date.now();
  try {
    return await executeChild(cacheRefresh, { workflowId: cacheRefreshWorkflowId(input.cacheName), args: [input] });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return {
        result: 'SKIPPED',
        message: `a refresh of cache ${input.cacheName} is already running`,
        rows_refreshed: 0,
        duration_ms: Date.now() - started,
        snapshot_id: null,
      };
    }
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({
      message: `refresh of cache ${input.cacheName} failed: ${rootCause(err).message}`,
      nonRetryable: true,
    });
  }
}
