/**
 * The watermark sync workflows on Temporal's time-skipping test server, with mocked activities
 * (wrapped by `wrapActivities` as the worker wraps the real ones): per-table failure isolation,
 * retries with backoff then a failure naming the table and the cause, continue-as-new carrying the
 * position, a superseded epoch ending a run, and cancellation.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BatchInput,
  BatchResult,
  BeginInput,
  FinishInput,
  RecordFailureInput,
  WatermarkSyncActivities,
} from '../../src/activities/watermark-sync/index.js';
import { floeError, NonRetryable, wrapActivities } from '../../src/errors.js';
import { SA } from '../../src/jobs/common.js';
import { tableSpec } from '../../src/jobs/watermark-sync/config.js';
import type { TablePlanRef, WatermarkSyncConfig, WatermarkTableSpec } from '../../src/jobs/watermark-sync/contract.js';
import { watermarkSync, watermarkTableSync } from '../../src/workflows/watermarkSync.js';
import { runWithActivities, timeSkippingEnv } from '../helpers/workflow-env.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const table = (source: string): WatermarkTableSpec =>
  tableSpec({ source, target: `S.${source.split('.')[1]}`, pk: ['id'], watermarkColumn: 'updated_at', batchSize: 10 });

const config = (name: string, tables: WatermarkTableSpec[]): WatermarkSyncConfig => ({
  name,
  syncIntervalSeconds: 120,
  maxParallelTables: 2,
  tables,
});

/** What the workflow carries between activities; the workflow never looks inside. */
const plan = { epoch: 1 } as TablePlanRef;

const batchResult = (rows: number, n: number, done: boolean, superseded = false): BatchResult => ({
  rows,
  position: { watermark: String(n), pk: [String(n)] },
  done,
  method: 'binds',
  superseded,
  durationMs: 1,
});

/** Mocked activities: `begin`/`batch` per test, finish and failure recorded for assertions. */
function mocks(
  impl: { begin?: (i: BeginInput) => Promise<unknown>; batch: (i: BatchInput) => Promise<BatchResult> },
  calls: { finished: FinishInput[]; failures: RecordFailureInput[]; batches: BatchInput[]; begun: string[] },
) {
  const acts: Record<keyof WatermarkSyncActivities, (input: never) => Promise<unknown>> = {
    watermarkSyncBeginTable: async (i: BeginInput) => {
      calls.begun.push(i.table.source);
      return impl.begin ? impl.begin(i) : { plan, start: null, positionSeq: 7, hasRows: true };
    },
    watermarkSyncBatch: async (i: BatchInput) => {
      calls.batches.push(i);
      return impl.batch(i);
    },
    watermarkSyncFinishTable: async (i: FinishInput) => {
      calls.finished.push(i);
    },
    watermarkSyncRecordFailure: async (i: RecordFailureInput) => {
      calls.failures.push(i);
      return calls.failures.length;
    },
  };
  return wrapActivities(acts);
}

const newCalls = () => ({
  finished: [] as FinishInput[],
  failures: [] as RecordFailureInput[],
  batches: [] as BatchInput[],
  begun: [] as string[],
});

describe('watermark sync workflows', () => {
  it('isolates a failing table: the others complete and the parent reports it', async () => {
    const calls = newCalls();
    const activities = mocks(
      {
        begin: async (i) => {
          if (i.table.source === 'public.bad')
            throw floeError(NonRetryable.SchemaMismatch, 'public.bad: source column "extra" has no column in target');
          return { plan, start: null, hasRows: true };
        },
        batch: async () => batchResult(3, 3, true),
      },
      calls,
    );
    const result = await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(watermarkSync, {
        args: [{ config: config('iso', [table('public.bad'), table('public.good'), table('public.other')]) }],
        workflowId: 'wm-isolation',
        taskQueue,
      }),
    );
    expect(result.failed).toBe(1);
    expect(result.rows).toBe(6);
    const by = Object.fromEntries(result.tables.map((t) => [t.source, t]));
    expect(by['public.good']).toMatchObject({ status: 'success', rows: 3, batches: 1, binds: 1 });
    expect(by['public.other']).toMatchObject({ status: 'success', rows: 3 });
    expect(by['public.bad'].status).toBe('error');
    expect(by['public.bad'].error).toBe(
      'watermark sync of public.bad failed: public.bad: source column "extra" has no column in target',
    );
    // A non-retryable type is not retried: one begin for the bad table.
    expect(calls.begun.filter((s) => s === 'public.bad')).toHaveLength(1);
    expect(calls.failures).toEqual([
      expect.objectContaining({ sourceTable: 'public.bad', errorType: 'SchemaMismatch', after: null }),
    ]);
    expect(calls.finished.map((f) => [f.source, f.status]).sort()).toEqual([
      ['public.good', 'success'],
      ['public.other', 'success'],
    ]);
  });

  it('retries a transient batch failure with exponential backoff, then fails naming the table and the cause', async () => {
    const calls = newCalls();
    const startedAt: number[] = [];
    const activities = mocks(
      {
        batch: async () => {
          // The test server's clock, which skips ahead through each backoff.
          startedAt.push(await env.currentTimeMs());
          throw new Error('connection reset by peer');
        },
      },
      calls,
    );
    const err = await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(watermarkTableSync, {
        args: [{ configName: 'retry', table: table('public.flaky') }],
        workflowId: 'wm-retry',
        taskQueue,
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause?.message).toBe('watermark sync of public.flaky failed: connection reset by peer');
    expect((cause as ApplicationFailure).type).toBe('Transient');
    // activityRetry(): 5 attempts, waits of 1 s, 2 s, 4 s, 8 s between them (time skipped, not waited).
    expect(startedAt).toHaveLength(5);
    const waits = startedAt.slice(1).map((t, i) => t - startedAt[i]);
    expect(waits.map((w) => Math.round(w / 1000))).toEqual([1, 2, 4, 8]);
    expect(calls.failures).toEqual([
      expect.objectContaining({
        sourceTable: 'public.flaky',
        errorType: 'Transient',
        message: 'connection reset by peer',
        after: null,
        plan,
      }),
    ]);
    expect(calls.finished).toEqual([]);
  });

  it('continues as new every batchesPerRun batches, carrying the position, its write counter and the counts', async () => {
    const calls = newCalls();
    let n = 0;
    const activities = mocks(
      {
        batch: async (i) => ({
          ...(++n < 5 ? batchResult(10, n * 10, false) : batchResult(3, 43, true)),
          positionSeq: i.positionSeq! + 1,
        }),
      },
      calls,
    );
    const { result, firstRunStatus } = await runWithActivities(env, { activities }, async (client, taskQueue) => {
      const handle = await client.workflow.start(watermarkTableSync, {
        args: [{ configName: 'can', table: table('public.long'), batchesPerRun: 2 }],
        workflowId: 'wm-continue',
        taskQueue,
      });
      const r = await handle.result();
      const first = await client.workflow.getHandle('wm-continue', handle.firstExecutionRunId).describe();
      return { result: r, firstRunStatus: first.status.name };
    });
    expect(firstRunStatus).toBe('CONTINUED_AS_NEW');
    expect(result).toMatchObject({ status: 'success', rows: 43, batches: 5, binds: 5 });
    expect(result.position).toEqual({ watermark: '43', pk: ['43'] });
    // Planned once; each batch starts where the previous one stopped, across runs.
    expect(calls.begun).toEqual(['public.long']);
    expect(calls.batches.map((b) => b.after?.watermark ?? null)).toEqual([null, '10', '20', '30', '40']);
    expect(calls.batches.map((b) => b.runRowsBefore)).toEqual([0, 10, 20, 30, 40]);
    // Each batch advances from the counter the begin activity or the previous batch returned.
    expect(calls.batches.map((b) => b.positionSeq)).toEqual([7, 8, 9, 10, 11]);
    expect(calls.finished).toEqual([expect.objectContaining({ source: 'public.long', status: 'success', rows: 43 })]);
  });

  it('stops a run whose epoch was superseded by a backfill, without failing it', async () => {
    const calls = newCalls();
    let n = 0;
    const activities = mocks({ batch: async () => batchResult(++n === 1 ? 10 : 0, 10, false, n === 2) }, calls);
    const result = await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(watermarkSync, {
        args: [{ config: config('sup', [table('public.reset')]) }],
        workflowId: 'wm-superseded',
        taskQueue,
      }),
    );
    expect(result.failed).toBe(0);
    expect(result.tables[0]).toMatchObject({ source: 'public.reset', status: 'superseded', rows: 10, batches: 1 });
    expect(calls.batches).toHaveLength(2);
    expect(calls.finished).toEqual([expect.objectContaining({ source: 'public.reset', status: 'superseded' })]);
    expect(calls.failures).toEqual([]);
  });

  it('ends a cancelled run as cancelled, recording no failure', async () => {
    const calls = newCalls();
    let batchStarted!: () => void;
    const started = new Promise<void>((resolve) => (batchStarted = resolve));
    const activities = mocks(
      {
        batch: async () => {
          batchStarted();
          // Heartbeat until the cancellation arrives (Temporal delivers it with a heartbeat response).
          for (;;) {
            Context.current().heartbeat();
            await Context.current().sleep(100);
          }
        },
      },
      calls,
    );
    const { err, status } = await runWithActivities(env, { activities }, async (client, taskQueue) => {
      const handle = await client.workflow.start(watermarkTableSync, {
        args: [{ configName: 'cancel', table: table('public.slow'), batchHeartbeatSeconds: 1 }],
        workflowId: 'wm-cancel',
        taskQueue,
      });
      await started;
      await handle.cancel();
      const e = await handle.result().catch((x: unknown) => x);
      return { err: e, status: (await handle.describe()).typedSearchAttributes.get(SA.status) };
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(status).toBe('cancelled');
    expect(calls.failures).toEqual([]);
    expect(calls.finished).toEqual([]);
  });
});
