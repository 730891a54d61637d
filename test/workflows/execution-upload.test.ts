/**
 * Execution upload workflows with time skipping and mocked activities: the drain's concurrency bound,
 * first attempts batched per lane and a lost batch, retries with backoff and the item failed with its cause, continue-as-new of the drain carrying its
 * totals, and a user without a configuration skipped. The queue is an in-memory fake behind the real
 * activity names; the workflows are the real bundle.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptInSequence, type ExecutionUploadActivities } from '../../src/activities/execution-upload/index.js';
import type { ExecutionUploadResult } from '../../src/jobs/execution-upload/contract.js';
import { metricsRegistry } from '../../src/metrics/index.js';
import { executionUpload, executionUploadDrain } from '../../src/workflows/executionUpload.js';
import { runWithActivities, timeSkippingEnv } from '../helpers/workflow-env.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** Long enough that no heartbeat timeout fires while a mocked attempt waits for its peers. */
const upload = { heartbeatTimeoutSeconds: 3600, retryInitialSeconds: 10, retryMaxSeconds: 300 };

/** What the mocked activities saw. */
interface Calls {
  retryLater: { syncId: string; failures: number; message: string }[];
  fail: { syncId: string; message: string; retries: number }[];
}

let seq = 0;
const unique = (name: string) => `${name}-${process.pid}-${++seq}`;
/** The execution of a fake queue item: `<prefix>-s<i>` → `<prefix>-e<i>`. */
const executionOf = (syncId: string) => syncId.replace(/-s(\d+)$/, '-e$1');

/**
 * The activities over an in-memory queue of `n` items (`<prefix>-s1`…, execution `<prefix>-e1`…,
 * max_retries 3, no attempts before the claim), the prefix unique per queue so child workflow ids never
 * meet another test's; `attempt` decides each attempt's outcome, a batch's first attempts included.
 */
function fakeQueue(
  n: number,
  attempt: ExecutionUploadActivities['executionUploadAttempt'],
): { activities: ExecutionUploadActivities; calls: Calls; ids: string[] } {
  const prefix = unique('q');
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-s${i + 1}`);
  const pending = [...ids];
  const calls: Calls = { retryLater: [], fail: [] };
  const activities: ExecutionUploadActivities = {
    executionUploadClaim: async ({ limit }) =>
      pending
        .splice(0, limit)
        .map((syncId) => ({ syncId, executionId: executionOf(syncId), maxRetries: 3, attempts: 0 })),
    // Only children started before the claim passed the item read it; a call here fails the run.
    executionUploadBegin: async () => {
      throw new Error('executionUploadBegin called by a workflow that was given its item');
    },
    executionUploadAttempt: attempt,
    executionUploadBatch: ({ syncIds, options }) =>
      attemptInSequence(
        syncIds,
        async () => undefined,
        (syncId) => attempt({ syncId, options, attempt: 1 }),
      ),
    executionUploadAttempted: async () => [],
    executionUploadRetryLater: async (i) => {
      calls.retryLater.push(i);
    },
    executionUploadFail: async (i) => {
      calls.fail.push(i);
    },
  };
  return { activities, calls, ids };
}

const completed = (syncId: string, attempts: number, rows = 10): ExecutionUploadResult => ({
  syncId,
  executionId: executionOf(syncId),
  status: 'completed',
  table: `DB.S.T_${syncId}`,
  rows,
  attempts,
});

describe('executionUploadDrain', () => {
  it('never runs more than maxConcurrent uploads at once', async () => {
    const total = 11;
    const max = 3;
    let active = 0;
    let peak = 0;
    // An attempt holds its slot until every slot is busy or half a second has passed (the test server holds
    // back a parent's child-completion events while an activity runs, so waiting for peers forever
    // would deadlock); a drain that started too many would be seen above `max`.
    let waiters: (() => void)[] = [];
    const { activities } = fakeQueue(total, async ({ syncId, attempt }) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        if (active >= max) {
          for (const w of waiters) w();
          waiters = [];
        }
        setTimeout(resolve, 500);
      });
      active--;
      return completed(syncId, attempt);
    });
    const result = await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(executionUploadDrain, {
        args: [{ maxConcurrent: max, upload }],
        workflowId: unique('bound'),
        taskQueue,
      }),
    );
    expect(result).toMatchObject({ claimed: total, completed: total, failed: 0, rows: total * 10, runs: 1 });
    expect(peak).toBeLessThanOrEqual(max);
    expect(peak).toBeGreaterThan(1);
  });

  it('continues as new after itemsPerRun items, carrying its totals', async () => {
    const { activities } = fakeQueue(5, async ({ syncId, attempt }) => completed(syncId, attempt, 2));
    const result = await runWithActivities(env, { activities }, async (client, taskQueue) => {
      const handle = await client.workflow.start(executionUploadDrain, {
        args: [{ maxConcurrent: 2, itemsPerRun: 2, upload }],
        workflowId: unique('can'),
        taskQueue,
      });
      const firstRunId = handle.firstExecutionRunId;
      const r = await handle.result();
      const latest = await handle.describe();
      expect(latest.runId).not.toBe(firstRunId);
      return r;
    });
    expect(result).toEqual({ claimed: 5, completed: 5, failed: 0, skipped: 0, alreadyRunning: 0, rows: 10, runs: 3 });
  });

  it('counts a user without a configuration as skipped, without retries', async () => {
    const reason = 'no active Snowflake configuration for user u1';
    const { activities, calls } = fakeQueue(2, async ({ syncId, attempt }) =>
      syncId.endsWith('-s1')
        ? { syncId, executionId: executionOf(syncId), status: 'skipped', rows: 0, attempts: attempt, reason }
        : completed(syncId, attempt),
    );
    const result = await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(executionUploadDrain, { args: [{ upload }], workflowId: unique('skip'), taskQueue }),
    );
    expect(result).toMatchObject({ claimed: 2, completed: 1, skipped: 1, failed: 0, rows: 10 });
    expect(calls).toEqual({ retryLater: [], fail: [] });
  });
});

/** `floe_jobs_<outcome>_total{job="execution-upload"}` now. */
async function uploadJobs(outcome: 'started' | 'completed' | 'failed'): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric(`floe_jobs_${outcome}_total`)!.get();
  return metric.values.filter((v) => v.labels.job === 'execution-upload').reduce((a, v) => a + v.value, 0);
}

describe('executionUploadDrain, uploads in the drain itself', () => {
  it('runs no child workflow: first attempts in one batch per lane, retries with backoff, each item counted as a job', async () => {
    const { EventType } = temporal.api.enums.v1;
    const limits: number[] = [];
    const { activities, calls, ids } = fakeQueue(7, async ({ syncId, attempt }) => {
      if (syncId.endsWith('-s2')) throw new Error(`warehouse suspended (attempt ${attempt})`);
      return completed(syncId, attempt);
    });
    const claim = activities.executionUploadClaim;
    activities.executionUploadClaim = async (i) => {
      limits.push(i.limit);
      return claim(i);
    };
    const before = await Promise.all([uploadJobs('started'), uploadJobs('completed'), uploadJobs('failed')]);
    const { result, history } = await runWithActivities(env, { activities }, async (client, taskQueue) => {
      const handle = await client.workflow.start(executionUploadDrain, {
        args: [{ maxConcurrent: 2, upload }],
        workflowId: unique('inline'),
        taskQueue,
      });
      return { result: await handle.result(), history: await handle.fetchHistory() };
    });
    expect(result).toEqual({ claimed: 7, completed: 6, failed: 1, skipped: 0, alreadyRunning: 0, rows: 60, runs: 1 });
    expect(calls.retryLater.map((c) => [c.syncId, c.failures])).toEqual([
      [ids[1], 1],
      [ids[1], 2],
      [ids[1], 3],
    ]);
    expect(calls.fail).toEqual([{ syncId: ids[1], message: 'warehouse suspended (attempt 4)', retries: 3 }]);
    const events = history.events ?? [];
    expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)).toBe(
      false,
    );
    const scheduled = (name: string) =>
      events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length;
    // Lanes of 4 and 2 items (each a share of the 7 over both lanes), then 1: one batch each; the
    // failing item's three retries one activity each.
    expect(scheduled('executionUploadBatch')).toBe(3);
    expect(scheduled('executionUploadAttempt')).toBe(3);
    // The first claim fills both lanes (10 items each) and claims a round of lanes ahead; it got all 7.
    expect(limits[0]).toBe(40);
    expect(limits.length).toBeLessThan(7);
    const after = await Promise.all([uploadJobs('started'), uploadJobs('completed'), uploadJobs('failed')]);
    expect(after.map((n, k) => n - before[k]!)).toEqual([7, 6, 1]);
  });

  it('after a lost batch, counts a failed attempt only for the item that was under way', async () => {
    const seen: [string, number][] = [];
    const { activities, calls, ids } = fakeQueue(3, async ({ syncId, attempt }) => {
      seen.push([syncId, attempt]);
      return completed(syncId, attempt);
    });
    const asked: { syncId: string; attempts: number }[][] = [];
    // The batch's worker dies while the second item loads: the batch fails, only that item has an attempt since its claim.
    activities.executionUploadBatch = async () => {
      throw new Error('activity heartbeat timeout');
    };
    activities.executionUploadAttempted = async ({ items }) => {
      asked.push(items);
      return [ids[1]!];
    };
    const result = await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(executionUploadDrain, {
        args: [{ maxConcurrent: 1, batchSize: 3, upload }],
        workflowId: unique('lost'),
        taskQueue,
      }),
    );
    expect(result).toMatchObject({ claimed: 3, completed: 3, failed: 0 });
    expect(asked).toEqual([ids.map((syncId) => ({ syncId, attempts: 0 }))]);
    expect(calls.retryLater).toEqual([{ syncId: ids[1], failures: 1, message: 'activity heartbeat timeout' }]);
    // The unfinished items again, in order: the lost attempt counted for the second one only.
    expect(seen).toEqual([
      [ids[0], 1],
      [ids[1], 2],
      [ids[2], 1],
    ]);
  });
});

describe('executionUpload', () => {
  it('retries with exponential backoff, then fails the item with the cause', async () => {
    const scheduledAt: number[] = [];
    const {
      activities,
      calls,
      ids: [syncId],
    } = fakeQueue(1, async ({ attempt }) => {
      scheduledAt.push(Context.current().info.currentAttemptScheduledTimestampMs);
      throw new Error(`warehouse suspended (attempt ${attempt})`);
    });
    const result = await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(executionUpload, {
        args: [{ syncId: syncId!, executionId: executionOf(syncId!), maxRetries: 3, upload, taskQueue }],
        workflowId: unique('retry'),
        taskQueue,
      }),
    );
    // The first attempt and max_retries (3) more, then failed with the last cause.
    expect(result).toEqual({
      syncId,
      executionId: executionOf(syncId!),
      status: 'failed',
      rows: 0,
      attempts: 4,
      reason: 'warehouse suspended (attempt 4)',
    });
    expect(calls.retryLater.map((c) => [c.failures, c.message])).toEqual([
      [1, 'warehouse suspended (attempt 1)'],
      [2, 'warehouse suspended (attempt 2)'],
      [3, 'warehouse suspended (attempt 3)'],
    ]);
    expect(calls.fail).toEqual([{ syncId, message: 'warehouse suspended (attempt 4)', retries: 3 }]);
    // Backoff on the workflow's clock (skipped, not waited): 10 s, 20 s, 40 s.
    const gaps = scheduledAt.slice(1).map((t, i) => t - scheduledAt[i]!);
    expect(gaps).toHaveLength(3);
    [10_000, 20_000, 40_000].forEach((min, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(min);
      expect(gaps[i]).toBeLessThan(min * 2);
    });
  });

  it('fails at once on a non-retryable error', async () => {
    const {
      activities,
      calls,
      ids: [syncId],
    } = fakeQueue(1, async () => {
      throw ApplicationFailure.nonRetryable('the execution has no results', 'InvalidRequest');
    });
    const result = await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(executionUpload, {
        args: [{ syncId: syncId!, executionId: executionOf(syncId!), maxRetries: 3, upload, taskQueue }],
        workflowId: unique('nonretryable'),
        taskQueue,
      }),
    );
    expect(result).toMatchObject({ status: 'failed', attempts: 1, reason: 'the execution has no results' });
    expect(calls.retryLater).toEqual([]);
    expect(calls.fail).toEqual([{ syncId, message: 'the execution has no results', retries: 0 }]);
  });
});
