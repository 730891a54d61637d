/**
 * The cache refresh workflows on Temporal's time-skipping test server, with mocked activities (wrapped
 * like the worker's, so floe's error types and retry policy apply): SKIPPED when nothing changed,
 * retries with backoff, a failed refresh that returns ERROR, keeps the previous snapshot and cleans up,
 * cancellation cleanup, and the scheduled workflow's child start.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheRefreshActivities } from '../../src/activities/cache-refresh/index.js';
import { floeError, NonRetryable, Retryable, wrapActivities } from '../../src/errors.js';
import type { CacheCheckResult } from '../../src/jobs/cache-refresh/contract.js';
import { cacheRefreshWorkflowId } from '../../src/jobs/cache-refresh/contract.js';
import { SEARCH_ATTRIBUTES } from '../../src/jobs/common.js';
import { cacheRefresh, cacheRefreshScheduled } from '../../src/workflows/cacheRefresh.js';
import { runWithActivities, timeSkippingEnv } from '../helpers/workflow-env.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** Every activity call, by name, with its attempt number. */
type Calls = { name: string; attempt: number; input: Record<string, unknown> }[];

/**
 * Mocked cache activities: a check that decides `check`, an extract that runs `extract` (default: 42
 * rows into snapshot 8), recorders that only record. Returns the wrapped activities and the call log.
 */
function mockActivities(
  check: Partial<CacheCheckResult>,
  extract: (attempt: number) => Promise<{ rows: number; snapshotId: number }> = async () => ({
    rows: 42,
    snapshotId: 8,
  }),
) {
  const calls: Calls = [];
  const log = (name: string, input: unknown) =>
    calls.push({ name, attempt: Context.current().info.attempt, input: input as Record<string, unknown> });
  const acts: CacheRefreshActivities = {
    async cacheCheck(input) {
      log('cacheCheck', input);
      return { refresh: true, reason: 'TTL expired', stateHash: 'h1', lastAltered: {}, snapshotId: 7, ...check };
    },
    async cacheRecordSkip(input) {
      log('cacheRecordSkip', input); // the branch of refreshes started before the check recorded skips
    },
    async cacheMarkRefreshing(input) {
      log('cacheMarkRefreshing', input);
    },
    async cacheExtractLoad(input) {
      log('cacheExtractLoad', input);
      const r = await extract(Context.current().info.attempt);
      return { ...r, bytes: 1, method: 'stage' };
    },
    async cacheRecordRefreshed(input) {
      log('cacheRecordRefreshed', input);
    },
    async cacheRecordError(input) {
      log('cacheRecordError', input);
    },
    async cacheCleanup(input) {
      log('cacheCleanup', input);
    },
  };
  const names = (n: string) => calls.filter((c) => c.name === n);
  return { activities: wrapActivities(acts), calls, names };
}

let seq = 0;
const id = (prefix: string) => `${prefix}-${++seq}`;

describe('cacheRefresh', () => {
  it('SKIPPED when the smart check finds nothing changed: no extract, the skip recorded', async () => {
    const m = mockActivities({ refresh: false, reason: 'source tables unchanged and TTL not expired' });
    const r = await runWithActivities(env, m, (client, taskQueue) =>
      client.workflow.execute(cacheRefresh, { args: [{ cacheName: 'sales' }], workflowId: id('skip'), taskQueue }),
    );
    expect(r).toMatchObject({
      result: 'SKIPPED',
      message: 'source tables unchanged and TTL not expired',
      rows_refreshed: 0,
      snapshot_id: 7,
    });
    // The check records the skip itself: one activity, given the run's job id to record it under.
    expect(m.calls.map((c) => c.name)).toEqual(['cacheCheck']);
    expect(m.calls[0]!.input).toMatchObject({ cacheName: 'sales', jobId: expect.stringMatching(/^skip-\d+\//) });
  });

  it('upserts FloeStatus once for a skip (completed, 0 rows), and running only once the check decides to refresh', async () => {
    /** Runs a refresh with `check`; returns the FloeStatus (and FloeRows) of each upsert in its history, in order. */
    const statusUpserts = (check: Partial<CacheCheckResult>, workflowId: string) =>
      runWithActivities(env, mockActivities(check), async (client, taskQueue) => {
        const handle = await client.workflow.start(cacheRefresh, {
          args: [{ cacheName: 'sales' }],
          workflowId,
          taskQueue,
        });
        await handle.result();
        return (await handle.fetchHistory()).events!.flatMap((e) => {
          const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
          const [status, rows] = [fields[SEARCH_ATTRIBUTES.status], fields[SEARCH_ATTRIBUTES.rows]];
          if (!status) return []; // the patch marker's own upsert (TemporalChangeVersion)
          const text = (p: typeof status) => Buffer.from(p.data!).toString();
          return [`${text(status)}${rows ? ` rows=${text(rows)}` : ''}`];
        });
      });
    expect(await statusUpserts({ refresh: false }, id('skip-sa'))).toEqual(['"completed" rows=0']);
    expect(await statusUpserts({ refresh: true }, id('refresh-sa'))).toEqual(['"running"', '"completed" rows=42']);
  });

  it('retries a transient extract failure with backoff, then records the pre-extraction hash and the new snapshot', async () => {
    const m = mockActivities({ stateHash: 'before-extract' }, async (attempt) => {
      if (attempt < 3) throw floeError(Retryable.Transient, 'connection reset');
      return { rows: 42, snapshotId: 8 };
    });
    const workflowId = id('retry');
    const r = await runWithActivities(env, m, async (client, taskQueue) => {
      const started = await env.currentTimeMs();
      const result = await client.workflow.execute(cacheRefresh, {
        args: [{ cacheName: 'sales', force: true }],
        workflowId,
        taskQueue,
      });
      // activityRetry: 1 s, then 2 s of backoff between the three attempts (skipped, not waited).
      expect((await env.currentTimeMs()) - started).toBeGreaterThanOrEqual(3_000);
      return result;
    });
    expect(r).toMatchObject({ result: 'REFRESHED', rows_refreshed: 42, snapshot_id: 8 });
    expect(m.names('cacheExtractLoad').map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(m.names('cacheRecordRefreshed')[0]!.input).toMatchObject({
      cacheName: 'sales',
      stateHash: 'before-extract',
      rows: 42,
      snapshotId: 8,
    });
    expect(m.names('cacheCleanup')).toEqual([]);
  });

  it('a failed refresh returns ERROR naming the cache and the cause, keeps the previous snapshot and cleans up', async () => {
    const m = mockActivities({ snapshotId: 7 }, async () => {
      throw floeError(NonRetryable.VerificationFailed, 'loaded 2 rows but Snowflake unloaded 3; previous rows kept');
    });
    const workflowId = id('fail');
    const { r, status } = await runWithActivities(env, m, async (client, taskQueue) => {
      const handle = await client.workflow.start(cacheRefresh, {
        args: [{ cacheName: 'sales' }],
        workflowId,
        taskQueue,
      });
      const result = await handle.result();
      return { r: result, status: (await handle.describe()).searchAttributes[SEARCH_ATTRIBUTES.status] };
    });
    expect(r).toMatchObject({ result: 'ERROR', rows_refreshed: 0, snapshot_id: 7 });
    expect(r.message).toBe('refresh of cache sales failed: loaded 2 rows but Snowflake unloaded 3; previous rows kept');
    // Non-retryable: one attempt only; the run's stage path and files removed; the error recorded.
    expect(m.names('cacheExtractLoad')).toHaveLength(1);
    expect(m.names('cacheRecordRefreshed')).toEqual([]);
    expect(m.names('cacheCleanup')[0]!.input).toMatchObject({ cacheName: 'sales' });
    expect(m.names('cacheRecordError')[0]!.input).toMatchObject({ cacheName: 'sales', message: r.message });
    expect(status).toEqual(['failed']);
  });

  it('gives up after three attempts of a transient failure and returns ERROR', async () => {
    const m = mockActivities({}, async () => {
      throw floeError(Retryable.Transient, 'network unreachable');
    });
    const r = await runWithActivities(env, m, (client, taskQueue) =>
      client.workflow.execute(cacheRefresh, { args: [{ cacheName: 'sales' }], workflowId: id('exhaust'), taskQueue }),
    );
    expect(r).toMatchObject({ result: 'ERROR', message: 'refresh of cache sales failed: network unreachable' });
    expect(m.names('cacheExtractLoad').map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(m.names('cacheCleanup')).toHaveLength(1);
  });

  it('cancelled during the extract: cleans up, records the cancellation, ends cancelled', async () => {
    let extracting!: () => void;
    const inExtract = new Promise<void>((resolve) => (extracting = resolve));
    const m = mockActivities({}, async () => {
      extracting();
      // Heartbeats deliver the cancellation; `cancelled` rejects when it arrives.
      for (;;) {
        Context.current().heartbeat();
        await Promise.race([Context.current().cancelled, Context.current().sleep(100)]);
      }
    });
    const err = await runWithActivities(env, m, async (client, taskQueue) => {
      const handle = await client.workflow.start(cacheRefresh, {
        args: [{ cacheName: 'sales' }],
        workflowId: id('cancel'),
        taskQueue,
      });
      await inExtract;
      await handle.cancel();
      return handle.result().then(
        () => null,
        (e: unknown) => e,
      );
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(m.names('cacheCleanup')).toHaveLength(1);
    expect(m.names('cacheRecordError')[0]!.input).toMatchObject({
      message: 'refresh of cache sales was cancelled',
    });
    expect(m.names('cacheRecordRefreshed')).toEqual([]);
  });
});

describe('cacheRefreshScheduled', () => {
  it("starts the refresh as a child under the cache's workflow id", async () => {
    const m = mockActivities({});
    const r = await runWithActivities(env, m, (client, taskQueue) =>
      client.workflow.execute(cacheRefreshScheduled, {
        args: [{ cacheName: 'orders' }],
        workflowId: id('sched'),
        taskQueue,
      }),
    );
    expect(r).toMatchObject({ result: 'REFRESHED', rows_refreshed: 42 });
    expect(m.names('cacheMarkRefreshing')[0]!.input.jobId).toMatch(new RegExp(`^${cacheRefreshWorkflowId('orders')}/`));
  });

  it('returns SKIPPED when a refresh of the cache is already running, which is left alone', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let extracting!: () => void;
    const inExtract = new Promise<void>((resolve) => (extracting = resolve));
    const m = mockActivities({}, async () => {
      extracting();
      while (
        !(await Promise.race([
          released.then(() => true),
          Context.current()
            .sleep(100)
            .then(() => false),
        ]))
      )
        Context.current().heartbeat();
      return { rows: 5, snapshotId: 9 };
    });
    const [scheduled, running] = await runWithActivities(env, m, async (client, taskQueue) => {
      const first = await client.workflow.start(cacheRefresh, {
        args: [{ cacheName: 'busy' }],
        workflowId: cacheRefreshWorkflowId('busy'),
        taskQueue,
      });
      await inExtract;
      const second = await client.workflow.execute(cacheRefreshScheduled, {
        args: [{ cacheName: 'busy' }],
        workflowId: id('sched-busy'),
        taskQueue,
      });
      release();
      return [second, await first.result()] as const;
    });
    expect(scheduled).toMatchObject({
      result: 'SKIPPED',
      message: 'a refresh of cache busy is already running',
      snapshot_id: null,
    });
    expect(running).toMatchObject({ result: 'REFRESHED', rows_refreshed: 5, snapshot_id: 9 });
    expect(m.names('cacheCheck')).toHaveLength(1);
  });
});
