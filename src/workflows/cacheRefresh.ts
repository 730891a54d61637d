/**
 * The `cacheRefresh` workflow (seed 003's `ducksync_refresh`): one smart refresh of one cache.
 * Workflow id = `cacheRefresh-<cache>` (cacheRefreshWorkflowId), so refreshes of one cache are
 * serialized by Temporal while different caches refresh in parallel. Deterministic: only
 * `@temporalio/workflow`, types and constants.
 *
 * Steps: check (TTL, then LAST_ALTERED hash read BEFORE extraction) → SKIPPED, or mark refreshing →
 * extract + replace in one DuckLake transaction → record the pre-extraction hash, rows and snapshot →
 * REFRESHED. A failure records the error (the previous rows stay readable), cleans the job's stage
 * path, and returns `ERROR` with the cause (the seed's shape) rather than failing the workflow.
 *
 * `cacheRefreshScheduled` is what a cache's Temporal Schedule starts: it runs `cacheRefresh` as a child
 * under the cache's workflow id; when a refresh of that cache is already running it returns SKIPPED.
 *
 * Search attributes: FloeJobKind=cache_refresh, FloeTable=<cache>, FloeStrategy=smart|force,
 * FloeStatus, FloeRows.
 */
import {
  ApplicationFailure,
  CancellationScope,
  executeChild,
  isCancellation,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CacheRefreshActivities } from '../activities/cache-refresh/index.js';
import { activityRetry } from '../errors.js';
import {
  CACHE_REFRESH_JOB_KIND,
  CACHE_REFRESH_WORKFLOW,
  cacheRefreshWorkflowId,
  type CacheRefreshInput,
  type CacheRefreshResult,
} from '../jobs/cache-refresh/contract.js';
import { SA, type FloeJobStatus } from '../jobs/common.js';

const retry = activityRetry(3);

const short = proxyActivities<CacheRefreshActivities>({ startToCloseTimeout: '1m', retry });
const long = proxyActivities<CacheRefreshActivities>({ startToCloseTimeout: '2h', heartbeatTimeout: '1m', retry });

function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  let message = e?.message ?? String(err);
  while (e) {
    if (e.message) message = e.message;
    e = e.cause as typeof e;
  }
  return message;
}

/** One smart refresh of one cache. Never throws for a failed refresh: returns `result: 'ERROR'`. */
export async function cacheRefresh(input: CacheRefreshInput): Promise<CacheRefreshResult> {
  const jobId = workflowInfo().workflowId + '/' + workflowInfo().runId;
  const started = Date.now();
  const setStatus = (status: FloeJobStatus, rows?: number) =>
    upsertSearchAttributes([
      { key: SA.jobKind, value: CACHE_REFRESH_JOB_KIND },
      { key: SA.table, value: input.cacheName },
      { key: SA.strategy, value: input.force ? 'force' : 'smart' },
      { key: SA.status, value: status },
      ...(rows !== undefined ? [{ key: SA.rows, value: rows }] : []),
    ]);
  setStatus('running');
  let snapshotId: number | null = null;
  try {
    const check = await short.cacheCheck({ cacheName: input.cacheName, force: input.force });
    snapshotId = check.snapshotId;
    if (!check.refresh) {
      await short.cacheRecordSkip({ cacheName: input.cacheName, jobId });
      setStatus('completed', 0);
      return {
        result: 'SKIPPED',
        message: check.reason,
        rows_refreshed: 0,
        duration_ms: Date.now() - started,
        snapshot_id: snapshotId,
      };
    }
    await short.cacheMarkRefreshing({ cacheName: input.cacheName, jobId });
    const r = await long.cacheExtractLoad({ cacheName: input.cacheName, jobId });
    await short.cacheRecordRefreshed({
      cacheName: input.cacheName,
      jobId,
      stateHash: check.stateHash,
      lastAltered: check.lastAltered,
      rows: r.rows,
      snapshotId: r.snapshotId,
    });
    setStatus('completed', r.rows);
    return {
      result: 'REFRESHED',
      message: `refreshed (${check.reason}): ${r.rows} rows, snapshot ${r.snapshotId}`,
      rows_refreshed: r.rows,
      duration_ms: Date.now() - started,
      snapshot_id: r.snapshotId,
    };
  } catch (err) {
    const cancelled = isCancellation(err);
    const message = cancelled
      ? `refresh of cache ${input.cacheName} was cancelled`
      : `refresh of cache ${input.cacheName} failed: ${rootMessage(err)}`;
    await CancellationScope.nonCancellable(async () => {
      await short.cacheCleanup({ cacheName: input.cacheName, jobId }).catch(() => undefined);
      await short.cacheRecordError({ cacheName: input.cacheName, jobId, message }).catch(() => undefined);
    });
    setStatus(cancelled ? 'cancelled' : 'failed');
    if (cancelled) throw err;
    return { result: 'ERROR', message, rows_refreshed: 0, duration_ms: Date.now() - started, snapshot_id: snapshotId };
  }
}

/** Started by a cache's Schedule: the smart refresh as a child under the cache's workflow id. */
export async function cacheRefreshScheduled(input: CacheRefreshInput): Promise<CacheRefreshResult> {
  const started = Date.now();
  try {
    return (await executeChild(CACHE_REFRESH_WORKFLOW, {
      workflowId: cacheRefreshWorkflowId(input.cacheName),
      args: [input],
    })) as CacheRefreshResult;
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
    throw ApplicationFailure.create({ message: rootMessage(err), nonRetryable: true });
  }
}
