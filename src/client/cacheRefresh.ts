/**
 * Typed Temporal helpers of the cache: run a serialized refresh, and manage a cache's Schedule.
 */
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  type Client,
} from '@temporalio/client';
import {
  CACHE_REFRESH_JOB_KIND,
  CACHE_REFRESH_SCHEDULED_WORKFLOW,
  CACHE_REFRESH_WORKFLOW,
  cacheRefreshWorkflowId,
  cacheScheduleId,
  type CacheRefreshInput,
  type CacheRefreshResult,
} from '../jobs/cache-refresh/contract.js';
import { SA } from '../jobs/common.js';

/** Options of {@link runCacheRefresh}. */
export interface RunRefreshOptions {
  taskQueue: string;
  /** Give up waiting for a running refresh of the same cache after this many ms (default 10 min). */
  waitTimeoutMs?: number;
}

/**
 * Start the cache's refresh (workflow id `cacheRefresh-<cache>`) and wait for its result. When a refresh
 * of the same cache is already running, wait for it to finish and then start this one — so concurrent
 * requests are serialized and each gets its own smart check (the second one usually SKIPs).
 * Throws Temporal's errors (unreachable server, deadline).
 */
export async function runCacheRefresh(
  client: Client,
  input: CacheRefreshInput,
  opts: RunRefreshOptions,
): Promise<CacheRefreshResult> {
  const handle = await startCacheRefresh(client, input, opts);
  return (await handle.result()) as CacheRefreshResult;
}

/**
 * Start the refresh, waiting first for a running refresh of the same cache (see {@link runCacheRefresh}).
 * Returns the handle of the started run.
 */
export async function startCacheRefresh(client: Client, input: CacheRefreshInput, opts: RunRefreshOptions) {
  const workflowId = cacheRefreshWorkflowId(input.cacheName);
  const until = Date.now() + (opts.waitTimeoutMs ?? 600_000);
  for (;;) {
    try {
      return await client.workflow.start(CACHE_REFRESH_WORKFLOW, {
        taskQueue: opts.taskQueue,
        workflowId,
        args: [input],
        typedSearchAttributes: [
          { key: SA.jobKind, value: CACHE_REFRESH_JOB_KIND },
          { key: SA.table, value: input.cacheName },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || Date.now() > until) throw err;
      await client.workflow
        .getHandle(workflowId)
        .result()
        .catch(() => undefined);
    }
  }
}

/**
 * Create or update the cache's Schedule: every `intervalSeconds`, `cacheRefreshScheduled` (smart
 * refresh; overlap SKIP). Idempotent.
 */
export async function upsertCacheSchedule(
  client: Client,
  cacheName: string,
  intervalSeconds: number,
  taskQueue: string,
): Promise<string> {
  const scheduleId = cacheScheduleId(cacheName);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: CACHE_REFRESH_SCHEDULED_WORKFLOW,
    taskQueue,
    workflowId: `cacheRefresh-scheduled-${cacheName}`,
    args: [{ cacheName } satisfies CacheRefreshInput],
  };
  const spec = { intervals: [{ every: `${intervalSeconds}s` as const }] };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  } catch (err) {
    if ((err as Error).name !== 'ScheduleAlreadyRunning') throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
  }
  return scheduleId;
}

/** Delete the cache's Schedule; returns false when there was none. */
export async function deleteCacheSchedule(client: Client, cacheName: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(cacheScheduleId(cacheName)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Whether the cache has a Schedule, and its next run (ISO) when it does. */
export async function describeCacheSchedule(
  client: Client,
  cacheName: string,
): Promise<{ schedule_id: string; next_run: string | null } | null> {
  try {
    const d = await client.schedule.getHandle(cacheScheduleId(cacheName)).describe();
    return { schedule_id: cacheScheduleId(cacheName), next_run: d.info.nextActionTimes[0]?.toISOString() ?? null };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}
