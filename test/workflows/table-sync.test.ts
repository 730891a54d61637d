/**
 * The tableSync workflow with time skipping and mocked activities (wrapped by `wrapActivities` as the
 * worker wraps the real ones): retries with backoff of a transient transfer failure, a non-retryable
 * failure that names the table and the cause, a cancellation before the transfer's commit (cleanup in a
 * non-cancellable scope, previous target left) and one after it (the run completes), and an
 * incremental sync that refuses lag without a primary key.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSyncActivities, TransferResult } from '../../src/activities/table-sync/index.js';
import { floeError, NonRetryable, Retryable, wrapActivities } from '../../src/errors.js';
import type { TableSyncInput } from '../../src/jobs/table-sync/contract.js';
import type { TableStatusUpdate } from '../../src/jobs/table-sync/status.js';
import { progressQuery, tableSync } from '../../src/workflows/tableSync.js';
import { runWithActivities, timeSkippingEnv } from '../helpers/workflow-env.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const input: TableSyncInput = {
  tableId: '00000000-0000-4000-8000-000000000001',
  database: 'SRC',
  schema: 'S',
  table: 'ORDERS',
  target: { schema: 'SRC__S', table: 'ORDERS' },
  strategy: 'full',
  method: 'stage',
  heartbeatTimeoutSeconds: 1,
};

const transferred: TransferResult = {
  sourceRows: 3,
  rowsRead: 3,
  rowsInserted: 3,
  rowsUpdated: 0,
  rowsInTarget: 3,
  bytes: 1024,
  files: 1,
  watermark: null,
  method: 'stage',
  target: '"SRC__S"."ORDERS"',
};

type Mocks = { [K in keyof TableSyncActivities]?: TableSyncActivities[K] };

/** Mocked activities: a recorder of calls and statuses around the given overrides. */
function mocked(overrides: Mocks) {
  const calls: string[] = [];
  const statuses: TableStatusUpdate[] = [];
  const base: TableSyncActivities = {
    tableSyncDescribe: async () => ({ columns: [], rowCount: 3, bytes: 1024, lastAltered: null }),
    tableSyncCountSource: async () => 3,
    tableSyncTransfer: async () => transferred,
    tableSyncCleanup: async () => ({ removed: true }),
    tableSyncRecordStatus: async (u) => {
      statuses.push(u);
      return true;
    },
  };
  const acts = { ...base, ...overrides };
  const recorded = Object.fromEntries(
    Object.entries(acts).map(([name, fn]) => [
      name,
      (...args: never[]) => {
        calls.push(name);
        return (fn as (...a: never[]) => Promise<unknown>)(...args);
      },
    ]),
  );
  return { activities: wrapActivities(recorded), calls, statuses };
}

/** The workflow's failure: its ApplicationFailure (type, message) or its cancellation. */
async function failureOf(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as Error;
}

describe('tableSync workflow', () => {
  it('retries a transient transfer failure with exponential backoff, then completes', async () => {
    const attempts: { attempt: number; atMs: number }[] = [];
    const m = mocked({
      tableSyncTransfer: async () => {
        const { attempt } = Context.current().info;
        attempts.push({ attempt, atMs: await env.currentTimeMs() });
        if (attempt < 3) throw floeError(Retryable.Transient, 'connection reset by the emulator');
        return transferred;
      },
    });
    const result = await runWithActivities(env, m, (client, taskQueue) =>
      client.workflow.execute(tableSync, { args: [input], workflowId: 'ts-retry', taskQueue }),
    );
    expect(result).toMatchObject({ rowsInTarget: 3, method: 'stage', strategy: 'full' });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // activityRetry: 1 s, then ×2 (the test server's clock, which skips the waits).
    expect(attempts[1].atMs - attempts[0].atMs).toBeGreaterThanOrEqual(1_000);
    expect(attempts[2].atMs - attempts[1].atMs).toBeGreaterThanOrEqual(2_000);
    expect(m.calls).not.toContain('tableSyncCleanup');
    expect(m.statuses.map((s) => s.status)).toEqual(['running', 'completed']);
  });

  it('fails at once on a non-retryable error, naming the table and the cause, after cleaning up', async () => {
    const m = mocked({
      tableSyncDescribe: async () => {
        throw floeError(NonRetryable.TableNotFound, 'table SRC.S.ORDERS does not exist or is not visible');
      },
    });
    const failure = await failureOf(
      runWithActivities(env, m, (client, taskQueue) =>
        client.workflow.execute(tableSync, { args: [input], workflowId: 'ts-missing', taskQueue }),
      ),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('TableNotFound');
    expect(failure.message).toBe(
      'table sync of SRC.S.ORDERS failed: table SRC.S.ORDERS does not exist or is not visible',
    );
    expect(m.calls.filter((c) => c === 'tableSyncDescribe')).toHaveLength(1);
    expect(m.calls).toContain('tableSyncCleanup');
    expect(m.calls).not.toContain('tableSyncTransfer');
    expect(m.statuses.at(-1)).toMatchObject({ status: 'failed', error: failure.message });
  });

  it('a cancellation before the commit waits for the transfer, runs the cleanup and leaves the previous target', async () => {
    const target = { rows: ['previous'] };
    let transferStarted!: () => void;
    const started = new Promise<void>((resolve) => (transferStarted = resolve));
    const cleanups: unknown[] = [];
    const m = mocked({
      tableSyncTransfer: async () => {
        transferStarted();
        const ctx = Context.current();
        // Heartbeats deliver the cancellation (ctx.sleep then rejects); only a transfer that ran to
        // its end would replace the target.
        for (let beat = 0; beat < 600; beat++) {
          ctx.heartbeat({ phase: 'unload', rowsLoaded: 0 });
          await ctx.sleep(50);
        }
        target.rows = ['new'];
        return transferred;
      },
      tableSyncCleanup: async (c) => {
        cleanups.push(c);
        return { removed: true };
      },
    });
    const failure = await failureOf(
      runWithActivities(env, m, async (client, taskQueue) => {
        const handle = await client.workflow.start(tableSync, { args: [input], workflowId: 'ts-cancel', taskQueue });
        await started;
        await handle.cancel();
        return handle.result();
      }),
    );
    expect(failure).toBeInstanceOf(CancelledFailure);
    expect(cleanups).toEqual([
      {
        jobId: 'ts-cancel',
        tableId: input.tableId,
        source: { database: 'SRC', schema: 'S', table: 'ORDERS' },
        target: input.target,
      },
    ]);
    expect(target.rows).toEqual(['previous']);
    expect(m.statuses.at(-1)).toMatchObject({
      status: 'cancelled',
      error: 'table sync of SRC.S.ORDERS was cancelled',
    });
  });

  it('a cancellation that reaches the transfer after its commit ends the run completed, status recorded', async () => {
    const target = { rows: ['previous'] };
    let transferStarted!: () => void;
    const started = new Promise<void>((resolve) => (transferStarted = resolve));
    const m = mocked({
      tableSyncTransfer: async () => {
        transferStarted();
        const ctx = Context.current();
        // The cancellation arrives with a heartbeat while the commit runs: the swap is not interrupted.
        while (!ctx.cancellationSignal.aborted) {
          ctx.heartbeat({ phase: 'load', rowsLoaded: 3 });
          await new Promise((r) => setTimeout(r, 50));
        }
        target.rows = ['new'];
        return transferred;
      },
    });
    const { result, description, progressAtEnd } = await runWithActivities(env, m, async (client, taskQueue) => {
      const handle = await client.workflow.start(tableSync, { args: [input], workflowId: 'ts-cancel-late', taskQueue });
      await started;
      // The progress query during the transfer: its step, and the full refresh's rows from the statistics.
      expect(await handle.query(progressQuery)).toEqual({ phase: 'transfer', rowsLoaded: 0, rowsTotal: 3 });
      await handle.cancel();
      const out = await handle.result();
      return { result: out, description: await handle.describe(), progressAtEnd: await handle.query(progressQuery) };
    });
    expect(result).toMatchObject({ rowsInTarget: 3, strategy: 'full' });
    expect(description.status.name).toBe('COMPLETED');
    expect(target.rows).toEqual(['new']);
    expect(m.calls).not.toContain('tableSyncCleanup');
    expect(m.statuses.map((s) => s.status)).toEqual(['running', 'completed']);
    expect(progressAtEnd).toEqual({ phase: 'done', rowsLoaded: 3, rowsTotal: 3 });
  });

  it('refuses an incremental sync with lag but no primary key before reading anything', async () => {
    const m = mocked({});
    const failure = await failureOf(
      runWithActivities(env, m, (client, taskQueue) =>
        client.workflow.execute(tableSync, {
          args: [{ ...input, strategy: 'incremental', watermarkColumn: 'UPDATED_AT', lagSeconds: 60 }],
          workflowId: 'ts-lag',
          taskQueue,
        }),
      ),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('InvalidRequest');
    expect(failure.message).toMatch(/^table sync of SRC\.S\.ORDERS failed: lag_seconds needs a primary key/);
    expect(m.calls).not.toContain('tableSyncDescribe');
    expect(m.calls).not.toContain('tableSyncTransfer');
  });
});
