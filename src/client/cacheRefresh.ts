/**
 * Temporal client of the cache refresh: run a serialized refresh, and manage a cache's Schedule (through
 * the one Schedules helper, src/client/schedules.ts). Workflows are started by reference to their
 * function, so their name and argument types are checked by the compiler.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  cacheRefreshWorkflowId,
  cacheScheduledWorkflowId,
  cacheScheduleId,
  type CacheRefreshInput,
  type CacheRefreshResult,
} from '../jobs/cache-refresh/contract.js';
import { jobStatusAttributes } from '../jobs/common.js';
import { cacheRefresh, cacheRefreshScheduled } from '../workflows/cacheRefresh.js';
import { deleteSchedule, describeSchedule, upsertSchedule } from './schedules.js';

/** Options of {@link runCacheRefresh}. */
export interface RunRefreshOptions {
  taskQueue: string;
  /** Give up waiting for a running refresh of the same cache after this many ms (default 10 min). */
  waitTimeoutMs?: number;
  /**
   * Ask for Temporal's eager workflow start: the server hands the run's first workflow task back in the
   * start response, to a worker of this process on the same connection, instead of dispatching it through
   * the task queue: one dispatch and one persisted write less per run (what it saves: docs/cache-refresh.md,
   * "Measured"). Needs `client` built on the worker's `NativeConnection`
   * (the SDK refuses the option otherwise); with no worker of `taskQueue` in this process, or none with
   * a free slot, the run starts the usual way.
   */
  eagerStart?: boolean;
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
  return handle.result();
}

/**
 * Start the refresh, waiting first for a running refresh of the same cache (see {@link runCacheRefresh}).
 * Returns the handle of the started run.
 * @throws WorkflowExecutionAlreadyStartedError when another refresh still runs after `waitTimeoutMs`.
 */
export async function startCacheRefresh(client: Client, input: CacheRefreshInput, opts: RunRefreshOptions) {
  const workflowId = cacheRefreshWorkflowId(input.cacheName);
  const until = Date.now() + (opts.waitTimeoutMs ?? 600_000);
  for (;;) {
    try {
      return await client.workflow.start(cacheRefresh, {
        taskQueue: opts.taskQueue,
        workflowId,
        args: [input],
        requestEagerStart: opts.eagerStart,
        typedSearchAttributes: jobStatusAttributes('cache-refresh', {
          subject: input.cacheName,
          strategy: input.force ? 'force' : 'smart',
          status: 'pending',
        }),
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
 * Create or update the cache's Schedule: every `intervalSeconds`, `cacheRefreshScheduled` (a smart
 * refresh; overlap SKIP). Idempotent.
 * @returns the Schedule id.
 */
export async function upsertCacheSchedule(
  client: Client,
  cacheName: string,
  intervalSeconds: number,
  taskQueue: string,
): Promise<string> {
  const scheduleId = cacheScheduleId(cacheName);
  await upsertSchedule(client, {
    scheduleId,
    kind: 'cache-refresh',
    every: `${intervalSeconds}s`,
    action: {
      workflowType: cacheRefreshScheduled,
      workflowId: cacheScheduledWorkflowId(cacheName),
      taskQueue,
      args: [{ cacheName }],
    },
    memo: { cacheName },
  });
  return scheduleId;
}

/** Delete the cache's Schedule; returns false when there was none. */
export function deleteCacheSchedule(client: Client, cacheName: string): Promise<boolean> {
  return deleteSchedule(client, cacheScheduleId(cacheName));
}

/** Whether the cache has a Schedule, and its next run (ISO) when it does. */
export async function describeCacheSchedule(
  client: Client,
  cacheName: string,
): Promise<{ schedule_id: string; next_run: string | null } | null> {
  const scheduleId = cacheScheduleId(cacheName);
  const d = await describeSchedule(client, scheduleId);
  return d && { schedule_id: scheduleId, next_run: d.info.nextActionTimes[0]?.toISOString() ?? null };
}
